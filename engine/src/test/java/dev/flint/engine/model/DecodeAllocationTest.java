package dev.flint.engine.model;

import dev.flint.engine.Fixtures;
import dev.flint.engine.kv.KvCache;
import dev.flint.engine.parallel.WorkerPool;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
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
        try (Model model = Model.load(Fixtures.model(file)); WorkerPool pool = new WorkerPool(2)) {
            Transformer tf = model.transformer();
            KvCache cache = tf.newCache(64);
            float[] logits = new float[tf.vocabularySize()];
            Batch b = new Batch();
            long[] threads = threadsOf(pool);
            long start = System.nanoTime();
            long lastWindow = -1;
            int step = 0;
            while (System.nanoTime() - start < GIVE_UP_NANOS) {
                long before = allocated(bean, threads);
                for (int i = 0; i < WINDOW; i++, step++) {
                    b.clear().add((31 * step + 7) % tf.vocabularySize(), step % 64, cache, true);
                    tf.forward(b, logits, pool);
                }
                lastWindow = allocated(bean, threads) - before;
                if (lastWindow == 0) {
                    return;
                }
            }
            fail(file + ": after " + step + " decode steps a window of " + WINDOW + " still allocated "
                    + lastWindow + " bytes");
        }
    }

    /** The calling thread and the pool's workers (started by its constructor, named by it). */
    private static long[] threadsOf(WorkerPool pool) {
        List<Long> ids = new ArrayList<>();
        ids.add(Thread.currentThread().threadId());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("flint-worker-")) {
                ids.add(t.threadId());
            }
        }
        assertTrue(ids.size() >= pool.threads(), "the pool's workers were found");
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    private static long allocated(com.sun.management.ThreadMXBean bean, long[] threads) {
        long sum = 0;
        for (long id : threads) {
            long bytes = bean.getThreadAllocatedBytes(id);
            if (bytes > 0) { // -1 for a thread that has ended (another test's closed pool)
                sum += bytes;
            }
        }
        return sum;
    }
}
