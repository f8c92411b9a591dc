package dev.flint.engine.sched;

import dev.flint.engine.generate.Cancellation;
import dev.flint.engine.sampling.SamplerConfig;

import java.util.List;

/**
 * One unit of work for the {@link Scheduler}: a tokenized prompt and the limits of its generation.
 *
 * @param prompt        prompt tokens (not empty)
 * @param maxTokens     tokens to generate at most; 0 only fills the slot's cache (llama.vim's warm-up requests)
 * @param stop          stop strings; the text is cut before the first one found
 * @param ignoreEos     keep going past end-of-generation tokens
 * @param slot          the slot to run in, or -1 to let the scheduler pick (best cached prefix, then least recently
 *                      used)
 * @param cachePrompt   reuse the longest prefix the slot already holds
 * @param maxPredictMs  once this many milliseconds of generation passed, stop at the next newline (0: no budget);
 *                      llama.cpp's {@code t_max_predict_ms}
 * @param cancellation  set by the transport (cancel message, closed connection); checked before every step
 * @param minIndent     stop when a generated line starts with less indentation than this, cutting that line
 *                      (llama.cpp's {@code n_indent}); 0: off
 * @param maxLines      end the completion before its n-th line break, counted from its first non-blank character
 *                      (1: single-line mode); 0: off
 * @param speculation   this request's speculative-decoding limits within the server's ({@link Speculation#SERVER}
 *                      when null)
 */
public record Job(int[] prompt, int maxTokens, SamplerConfig sampling, List<String> stop, boolean ignoreEos,
                  int slot, boolean cachePrompt, long maxPredictMs, Cancellation cancellation, int minIndent,
                  int maxLines, Speculation speculation) {
    public Job {
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        if (maxLines < 0) {
            throw new IllegalArgumentException("max lines must be >= 0, got " + maxLines);
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        sampling = sampling == null ? SamplerConfig.defaults() : sampling;
        cancellation = cancellation == null ? new Cancellation() : cancellation;
        speculation = speculation == null ? Speculation.SERVER : speculation;
    }

    public Job(int[] prompt, int maxTokens, SamplerConfig sampling, List<String> stop, boolean ignoreEos, int slot,
               boolean cachePrompt, long maxPredictMs, Cancellation cancellation, int minIndent, int maxLines) {
        this(prompt, maxTokens, sampling, stop, ignoreEos, slot, cachePrompt, maxPredictMs, cancellation, minIndent,
                maxLines, null);
    }

    public Job(int[] prompt, int maxTokens, SamplerConfig sampling, List<String> stop, boolean ignoreEos, int slot,
               boolean cachePrompt, long maxPredictMs, Cancellation cancellation, int minIndent) {
        this(prompt, maxTokens, sampling, stop, ignoreEos, slot, cachePrompt, maxPredictMs, cancellation, minIndent, 0,
                null);
    }

    public static Job of(int[] prompt, int maxTokens, SamplerConfig sampling) {
        return new Job(prompt, maxTokens, sampling, List.of(), false, -1, true, 0, new Cancellation(), 0, 0, null);
    }
}
