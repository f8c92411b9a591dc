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
 */
public record EngineOptions(int threads, int contextLength, int batchSize, boolean warmup) {
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
    }

    public static EngineOptions defaults() {
        return new EngineOptions(0, 0, 64, true);
    }

    public EngineOptions withThreads(int t) {
        return new EngineOptions(t, contextLength, batchSize, warmup);
    }

    public EngineOptions withContextLength(int c) {
        return new EngineOptions(threads, c, batchSize, warmup);
    }

    public EngineOptions withWarmup(boolean w) {
        return new EngineOptions(threads, contextLength, batchSize, w);
    }
}
