package dev.flint.engine.sched;

/**
 * @param slots          sequences evaluated concurrently, each with its own KV cache
 * @param contextLength  tokens per slot
 * @param queueCapacity  jobs that may wait for a slot; more are refused
 * @param stepTokens     tokens one forward pass evaluates at most (decode tokens of all slots plus prompt chunks)
 * @param cacheReuse     shortest run of cached tokens, beyond the common prefix, that is moved to its new position
 *                       (keys re-rotated) instead of recomputed; 0 turns it off (llama.cpp's {@code --cache-reuse})
 * @param draftMax       tokens drafted per decode step by n-gram self-speculation for greedy jobs, verified in the
 *                       same forward pass; 0 turns speculation off
 */
public record SchedulerOptions(int slots, int contextLength, int queueCapacity, int stepTokens, int cacheReuse,
                               int draftMax) {
    /**
     * Flint reuses moved runs by default: in fill-in-the-middle prompts the suffix moves with every keystroke. Runs
     * shorter than this are cheap to recompute and more likely to be chance matches.
     */
    public static final int DEFAULT_CACHE_REUSE = 32;

    public SchedulerOptions {
        if (slots < 1 || contextLength < 2 || queueCapacity < 0 || stepTokens < slots || cacheReuse < 0
                || draftMax < 0 || draftMax > 64) {
            throw new IllegalArgumentException("bad scheduler options: slots " + slots + ", context " + contextLength
                    + ", queue " + queueCapacity + ", step tokens " + stepTokens + ", cache reuse " + cacheReuse
                    + ", draft max " + draftMax + " (0..64)");
        }
    }

    public SchedulerOptions(int slots, int contextLength, int queueCapacity, int stepTokens) {
        this(slots, contextLength, queueCapacity, stepTokens, DEFAULT_CACHE_REUSE, 0);
    }

    public SchedulerOptions withDraftMax(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, cacheReuse, n);
    }

    public SchedulerOptions withCacheReuse(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, n, draftMax);
    }
}
