package dev.flint.engine.sched;

import dev.flint.engine.generate.FinishReason;

/**
 * How a job ended.
 *
 * @param text            the generated text (cut before a stop string)
 * @param generatedTokens tokens sampled (an end-of-generation token is not counted)
 * @param promptTokens    tokens in the prompt
 * @param cachedTokens    prompt tokens reused from the slot's cache
 * @param slot            the slot it ran in (-1 if it never started)
 * @param stoppingWord    the stop string that matched, or ""
 * @param error           why it failed, or null
 */
public record Completion(String text, FinishReason finishReason, int generatedTokens, int promptTokens,
                         int cachedTokens, int slot, String stoppingWord, Timings timings, String error) {

    /**
     * Milliseconds: waiting in the queue, evaluating the prompt (from leaving the queue), from submission to the
     * first token, generating (after the prompt), and in all.
     */
    public record Timings(double queueMs, double promptMs, double firstTokenMs, double predictedMs, double totalMs) {
    }

    public boolean failed() {
        return error != null;
    }
}
