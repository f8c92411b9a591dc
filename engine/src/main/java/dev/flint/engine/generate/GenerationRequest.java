package dev.flint.engine.generate;

import dev.flint.engine.sampling.SamplerConfig;

import java.util.List;

/**
 * What to generate: the prompt as tokens, how many tokens at most, how to sample, and when to stop.
 *
 * @param ignoreEos keep generating past end-of-generation tokens (benchmarks)
 */
public record GenerationRequest(int[] prompt, int maxTokens, SamplerConfig sampling, List<String> stop,
                                boolean ignoreEos, Cancellation cancellation) {
    public GenerationRequest {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        cancellation = cancellation == null ? new Cancellation() : cancellation;
    }

    public static GenerationRequest of(int[] prompt, int maxTokens, SamplerConfig sampling) {
        return new GenerationRequest(prompt, maxTokens, sampling, List.of(), false, new Cancellation());
    }
}
