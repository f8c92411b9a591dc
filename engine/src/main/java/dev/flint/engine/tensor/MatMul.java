package dev.flint.engine.tensor;

import dev.flint.engine.parallel.WorkerPool;

/** Matrix products spread over a {@link WorkerPool}: each task computes a contiguous range of output rows. */
public final class MatMul {
    /** Rows per task: enough to amortise scheduling, few enough that both cores get an even share. */
    private static final int ROWS_PER_TASK = 16;

    private MatMul() {}

    /** {@code out[t * w.rows() + r] = W[r] · x[t]} for every row r and every token t of {@code x}. */
    public static void apply(WorkerPool pool, WeightMatrix w, Activations x, float[] out) {
        apply(pool, w, x, out, w.rows());
    }

    public static void apply(WorkerPool pool, WeightMatrix w, Activations x, float[] out, int outStride) {
        if (x.format != w.activationFormat()) {
            throw new IllegalArgumentException("activations in " + x.format + " but " + w.type() + " reads "
                    + w.activationFormat());
        }
        int rows = w.rows();
        // long contiguous runs per task (8 per thread, for balance): each thread then streams through memory the
        // hardware prefetcher can follow, instead of hopping between small interleaved blocks; a multiple of
        // ROWS_PER_TASK, so that kernels working on groups of rows (repacked Q4_0) see whole groups
        int even = (rows + pool.threads() * 8 - 1) / (pool.threads() * 8);
        int per = Math.max(1, (even + ROWS_PER_TASK - 1) / ROWS_PER_TASK) * ROWS_PER_TASK;
        int tasks = (rows + per - 1) / per;
        pool.parallelFor(tasks, task -> {
            int from = task * per;
            w.matmul(x, out, outStride, from, Math.min(rows, from + per));
        });
    }
}
