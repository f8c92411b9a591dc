package dev.flint.engine.generate;

/**
 * The outcome of a generation.
 *
 * @param tokens         generated token ids (an end-of-generation token is not included)
 * @param text           generated text, cut before a stop string if one matched
 * @param cachedTokens   prompt tokens reused from the session's cache
 * @param draftedTokens  tokens proposed by speculative decoding
 * @param acceptedTokens proposed tokens that verification accepted
 */
public record GenerationResult(int[] tokens, String text, FinishReason finishReason, int promptTokens,
                               int cachedTokens, Timings timings, int draftedTokens, int acceptedTokens) {

    public GenerationResult(int[] tokens, String text, FinishReason finishReason, int promptTokens, int cachedTokens,
                            Timings timings) {
        this(tokens, text, finishReason, promptTokens, cachedTokens, timings, 0, 0);
    }

    /** Milliseconds spent, from the start of the request. */
    public record Timings(double promptMs, double firstTokenMs, double generationMs, double totalMs) {
        public double promptTokensPerSecond(int computed) {
            return promptMs > 0 ? computed * 1000.0 / promptMs : 0;
        }
    }
}
