package dev.flint.engine;

import dev.flint.engine.parallel.WorkerPool;

/**
 * How to run a model.
 *
 * @param threads       compute threads (default: the CPUs this process may use)
 * @param contextLength tokens per session; 0 means the model's training context, capped at 4096
 * @param batchSize     prompt tokens evaluated per forward pass
 * @param warmup        run a few throwaway passes at load so the JIT has compiled the hot kernels before the first
 *                      request
 * @param maxDraft      tokens drafted per speculative decode step under greedy sampling (n-gram self-speculation);
 *                      0 turns speculation off
 */
public record EngineOptions(int threads, int contextLength, int batchSize, boolean warmup, int maxDraft) {
    public static final int DEFAULT_CONTEXT_CAP = 4096;

    public EngineOptions {
        if (threads <= 0) {
            threads = WorkerPool.defaultThreads();
        }
        if (contextLength < 0) {
            throw new IllegalArgumentException("context length must be >= 0");
        }
        if (batchSize <= 0) {
            batchSize = 64;
        }
        if (maxDraft < 0) {
            throw new IllegalArgumentException("maxDraft must be >= 0");
        }
    }

    public EngineOptions(int threads, int contextLength, int batchSize, boolean warmup) {
        this(threads, contextLength, batchSize, warmup, 0);
    }

    public static EngineOptions defaults() {
        return new EngineOptions(0, 0, 64, true);
    }

    public EngineOptions withThreads(int t) {
        return new EngineOptions(t, contextLength, batchSize, warmup, maxDraft);
    }

    public EngineOptions withContextLength(int c) {
        return new EngineOptions(threads, c, batchSize, warmup, maxDraft);
    }

    public EngineOptions withWarmup(boolean w) {
        return new EngineOptions(threads, contextLength, batchSize, w, maxDraft);
    }

    public EngineOptions withMaxDraft(int d) {
        return new EngineOptions(threads, contextLength, batchSize, warmup, d);
    }
}
