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
 * @param cacheRamMiB    host memory for the prefix tree that keeps slots' sequences when other prompts take their
 *                       slots, so any slot can take a prefix back later; 0 turns it off
 */
public record SchedulerOptions(int slots, int contextLength, int queueCapacity, int stepTokens, int cacheReuse,
                               int draftMax, int cacheRamMiB) {
    public static final int DEFAULT_CACHE_RAM_MIB = 512;

    /**
     * Flint reuses moved runs by default: in fill-in-the-middle prompts the suffix moves with every keystroke. Runs
     * shorter than this are cheap to recompute and more likely to be chance matches.
     */
    public static final int DEFAULT_CACHE_REUSE = 32;

    public SchedulerOptions {
        if (slots < 1 || contextLength < 2 || queueCapacity < 0 || stepTokens < slots || cacheReuse < 0
                || draftMax < 0 || draftMax > 64 || cacheRamMiB < 0) {
            throw new IllegalArgumentException("bad scheduler options: slots " + slots + ", context " + contextLength
                    + ", queue " + queueCapacity + ", step tokens " + stepTokens + ", cache reuse " + cacheReuse
                    + ", draft max " + draftMax + " (0..64), cache RAM " + cacheRamMiB + " MiB");
        }
    }

    public SchedulerOptions(int slots, int contextLength, int queueCapacity, int stepTokens) {
        this(slots, contextLength, queueCapacity, stepTokens, DEFAULT_CACHE_REUSE, 0, DEFAULT_CACHE_RAM_MIB);
    }

    public SchedulerOptions withDraftMax(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, cacheReuse, n, cacheRamMiB);
    }

    public SchedulerOptions withCacheRamMiB(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, cacheReuse, draftMax, n);
    }

    public SchedulerOptions withCacheReuse(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, n, draftMax, cacheRamMiB);
    }
}
