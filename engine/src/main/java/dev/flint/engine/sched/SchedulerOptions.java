package dev.flint.engine.sched;

/**
 * @param slots          sequences evaluated concurrently, each with its own KV cache
 * @param contextLength  tokens per slot
 * @param queueCapacity  jobs that may wait for a slot; more are refused
 * @param stepTokens     tokens one forward pass evaluates at most (decode tokens of all slots plus prompt chunks)
 * @param cacheReuse     shortest run of cached tokens, beyond the common prefix, that is moved to its new position
 *                       (keys re-rotated) instead of recomputed; 0 turns it off (llama.cpp's {@code --cache-reuse})
 * @param draftMax       tokens drafted per decode step (by the draft model when the scheduler has one, else by n-gram
 *                       self-speculation), verified in the same forward pass; 0 turns speculation off
 * @param cacheRamMiB    host memory for the prefix tree that keeps slots' sequences when other prompts take their
 *                       slots, so any slot can take a prefix back later; 0 turns it off
 * @param draftMin       drafts shorter than this are not verified (llama.cpp's {@code --draft-min}); 0 keeps all
 * @param draftPMin      the draft model stops drafting after a token whose probability is below this (llama.cpp's
 *                       {@code --draft-p-min}); n-gram drafts have no probabilities and ignore it
 * @param draftContextLength cells of each slot's draft-model cache (llama.cpp's {@code --ctx-size-draft}); 0 gives it
 *                       the slot's context length. A shorter one drafts from the last tokens of the slot only (see
 *                       {@link ModelDrafter}); at least draftMax + 2
 */
public record SchedulerOptions(int slots, int contextLength, int queueCapacity, int stepTokens, int cacheReuse,
                               int draftMax, int cacheRamMiB, int draftMin, float draftPMin, int draftContextLength) {
    public static final int DEFAULT_CACHE_RAM_MIB = 512;

    /**
     * Flint reuses moved runs by default: in fill-in-the-middle prompts the suffix moves with every keystroke. Runs
     * shorter than this are cheap to recompute and more likely to be chance matches.
     */
    public static final int DEFAULT_CACHE_REUSE = 32;

    /** Draft length with a draft model: a verification row costs about a prompt token, so drafts stay short. */
    public static final int DEFAULT_DRAFT_MAX = 8;

    /** llama.cpp's default: only drafts the draft model is quite sure of are worth a verification row. */
    public static final float DEFAULT_DRAFT_P_MIN = 0.9f;

    public SchedulerOptions {
        if (slots < 1 || contextLength < 2 || queueCapacity < 0 || stepTokens < slots || cacheReuse < 0
                || draftMax < 0 || draftMax > 64 || cacheRamMiB < 0 || draftMin < 0 || draftMin > draftMax && draftMax > 0
                || !(draftPMin >= 0f && draftPMin <= 1f)
                || draftContextLength != 0 && (draftContextLength < draftMax + 2 || draftContextLength < 2)) {
            throw new IllegalArgumentException("bad scheduler options: slots " + slots + ", context " + contextLength
                    + ", queue " + queueCapacity + ", step tokens " + stepTokens + ", cache reuse " + cacheReuse
                    + ", draft max " + draftMax + " (0..64), cache RAM " + cacheRamMiB + " MiB, draft min " + draftMin
                    + " (0..draft max), draft p-min " + draftPMin + " (0..1), draft context " + draftContextLength
                    + " (0, or at least draft max + 2)");
        }
    }

    public SchedulerOptions(int slots, int contextLength, int queueCapacity, int stepTokens, int cacheReuse,
                            int draftMax, int cacheRamMiB) {
        this(slots, contextLength, queueCapacity, stepTokens, cacheReuse, draftMax, cacheRamMiB, 0,
                DEFAULT_DRAFT_P_MIN, 0);
    }

    public SchedulerOptions(int slots, int contextLength, int queueCapacity, int stepTokens) {
        this(slots, contextLength, queueCapacity, stepTokens, DEFAULT_CACHE_REUSE, 0, DEFAULT_CACHE_RAM_MIB);
    }

    public SchedulerOptions withDraftMax(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, cacheReuse, n, cacheRamMiB,
                draftMin, draftPMin, draftContextLength);
    }

    public SchedulerOptions withDraftMin(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, cacheReuse, draftMax, cacheRamMiB,
                n, draftPMin, draftContextLength);
    }

    public SchedulerOptions withDraftPMin(float p) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, cacheReuse, draftMax, cacheRamMiB,
                draftMin, p, draftContextLength);
    }

    public SchedulerOptions withCacheRamMiB(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, cacheReuse, draftMax, n,
                draftMin, draftPMin, draftContextLength);
    }

    public SchedulerOptions withCacheReuse(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, n, draftMax, cacheRamMiB,
                draftMin, draftPMin, draftContextLength);
    }

    public SchedulerOptions withDraftContextLength(int n) {
        return new SchedulerOptions(slots, contextLength, queueCapacity, stepTokens, cacheReuse, draftMax, cacheRamMiB,
                draftMin, draftPMin, n);
    }

    /** Cells of each slot's draft-model cache: {@link #draftContextLength}, at most the slot's context. */
    public int draftCacheLength() {
        return draftContextLength == 0 ? contextLength : Math.min(draftContextLength, contextLength);
    }
}
