package dev.flint.engine.tensor;

import dev.flint.engine.parallel.WorkerPool;

import java.util.function.IntConsumer;

/** Matrix products spread over a {@link WorkerPool}: each task computes a contiguous range of output rows. */
public final class MatMul {
    /** Rows per task: enough to amortise scheduling, few enough that both cores get an even share. */
    private static final int ROWS_PER_TASK = 16;

    private MatMul() {}

    private static int roundUp(int n) {
        return (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK * ROWS_PER_TASK;
    }

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
        // three quarters of the rows in long contiguous runs (4 per thread): each thread then streams through memory
        // the hardware prefetcher can follow, instead of hopping between small interleaved blocks; the last quarter
        // in short runs, handed out last, so that the threads finish together instead of one waiting out the
        // other's last long run. All multiples of ROWS_PER_TASK, so that kernels working on groups of rows
        // (repacked Q4_0) see whole groups.
        int threads = pool.threads();
        int big = roundUp(Math.max(1, rows * 3 / 4 / (threads * 4)));
        int bigTasks = Math.min((rows + big - 1) / big, threads * 4);
        int bigEnd = Math.min(rows, bigTasks * big);
        int small = roundUp(Math.max(1, (rows - bigEnd) / (threads * 4)));
        int tasks = bigTasks + (rows - bigEnd + small - 1) / small;
        RowRanges r = RANGES.get();
        if (r.w != null) { // a product inside a product's loop on this thread: not reusable now
            r = new RowRanges();
        }
        r.w = w;
        r.x = x;
        r.out = out;
        r.outStride = outStride;
        r.bigTasks = bigTasks;
        r.big = big;
        r.bigEnd = bigEnd;
        r.small = small;
        r.rows = rows;
        try {
            pool.parallelFor(tasks, r);
        } finally {
            r.w = null; // also frees the slot for the next product
            r.x = null;
            r.out = null;
        }
    }

    /**
     * A product's loop body: task k computes the k-th run of rows. One per calling thread, reused (loops are
     * synchronous), so a decode step's products allocate no loop objects.
     */
    private static final class RowRanges implements IntConsumer {
        WeightMatrix w;
        Activations x;
        float[] out;
        int outStride, bigTasks, big, bigEnd, small, rows;

        @Override
        public void accept(int task) {
            boolean longRun = task < bigTasks;
            int from = longRun ? task * big : bigEnd + (task - bigTasks) * small;
            w.matmul(x, out, outStride, from, longRun ? Math.min(from + big, bigEnd) : Math.min(from + small, rows));
        }
    }

    private static final ThreadLocal<RowRanges> RANGES = ThreadLocal.withInitial(RowRanges::new);
}
