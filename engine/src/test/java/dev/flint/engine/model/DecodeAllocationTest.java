package dev.flint.engine.model;

import dev.flint.engine.Fixtures;
import dev.flint.engine.kv.KvCache;
import dev.flint.engine.parallel.WorkerPool;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A decode step allocates nothing, on the calling thread or the pool's workers, once the JIT has compiled its
 * kernels (before that, the Vector API boxes its vectors in interpreted code, so the test runs steps until a window
 * of them is free of allocation, or fails after a bound no warm JVM needs). One model per family of paths: Q8_0 with
 * RMSNorm and SwiGLU, K-quants with QKV biases, and LayerNorm with GELU and biases.
 */
class DecodeAllocationTest {
    private static final int WINDOW = 32;
    private static final long GIVE_UP_NANOS = 60_000_000_000L;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-spm-Q8_0.gguf", "tiny-qwen2-Q4_K_M.gguf", "tiny-starcoder2-BF16.gguf"})
    void aWarmDecodeStepAllocatesNothing(String file) throws IOException {
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(bean.isThreadAllocatedMemorySupported(), "this JVM cannot count allocation per thread");
        bean.setThreadAllocatedMemoryEnabled(true);
        Set<Long> before = workerIds();
        try (Model model = Model.load(Fixtures.model(file)); WorkerPool pool = new WorkerPool(2)) {
            Transformer tf = model.transformer();
            KvCache cache = tf.newCache(64);
            float[] logits = new float[tf.vocabularySize()];
            Batch b = new Batch();
            long[] workers = newWorkers(before, pool);
            long[] start = new long[workers.length];
            long[] end = new long[workers.length];
            long t0 = System.nanoTime();
            long lastWindow = -1;
            int step = 0;
            while (System.nanoTime() - t0 < GIVE_UP_NANOS) {
                // the workers' counters, then the calling thread's, so that the window holds only the steps: reading
                // another thread's counter may allocate on the calling thread
                for (int i = 0; i < workers.length; i++) {
                    start[i] = bean.getThreadAllocatedBytes(workers[i]);
                }
                long callerStart = bean.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < WINDOW; i++, step++) {
                    b.clear().add((31 * step + 7) % tf.vocabularySize(), step % 64, cache, true);
                    tf.forward(b, logits, pool);
                }
                lastWindow = bean.getCurrentThreadAllocatedBytes() - callerStart;
                for (int i = 0; i < workers.length; i++) {
                    end[i] = bean.getThreadAllocatedBytes(workers[i]);
                    lastWindow += end[i] - start[i];
                }
                if (lastWindow == 0) {
                    return;
                }
            }
            fail(file + ": after " + step + " decode steps a window of " + WINDOW + " still allocated " + lastWindow
                    + " bytes");
        }
    }

    private static Set<Long> workerIds() {
        Set<Long> ids = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("flint-worker-")) {
                ids.add(t.threadId());
            }
        }
        return ids;
    }

    /** The pool's workers: those started by its constructor (other tests' pools may still be winding down). */
    private static long[] newWorkers(Set<Long> before, WorkerPool pool) {
        Set<Long> now = workerIds();
        now.removeAll(before);
        assertEquals(pool.threads() - 1, now.size(), "the pool's workers were found");
        return now.stream().mapToLong(Long::longValue).toArray();
    }
}
