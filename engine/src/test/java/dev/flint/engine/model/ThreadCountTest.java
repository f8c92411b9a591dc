package dev.flint.engine.model;

import dev.flint.engine.Fixtures;
import dev.flint.engine.kv.KvCache;
import dev.flint.engine.parallel.WorkerPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The thread count changes how the work is split (rows of each product, and the runs of query heads that attend
 * together), never a logit: a prompt batch, a small batch and decode steps give the same bits with 1 to 5 threads.
 */
class ThreadCountTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2-Q4_K_M.gguf", "tiny-llama-spm-Q8_0.gguf", "stories260K-F32.gguf"})
    void everyThreadCountGivesTheSameLogits(String file) throws IOException {
        try (Model model = Model.load(Fixtures.model(file))) {
            float[] expected = run(model, 1);
            for (int threads = 2; threads <= 5; threads++) {
                assertArrayEquals(expected, run(model, threads), file + " with " + threads + " threads");
            }
        }
    }

    @Test
    void aFixtureSharesKvHeadsBetweenQueryHeads() throws IOException {
        try (Model model = Model.load(Fixtures.model("tiny-qwen2-Q4_K_M.gguf"))) {
            assertTrue(model.config().headCount() > model.config().headCountKv(), "grouped-query attention covered");
        }
    }

    /** Logits of a 40-token prompt (all positions), a 3-token batch and 5 decode steps, end to end. */
    private static float[] run(Model model, int threads) {
        Transformer tf = model.transformer();
        int nv = tf.vocabularySize();
        try (WorkerPool pool = new WorkerPool(threads)) {
            KvCache cache = tf.newCache(64);
            float[] all = new float[(40 + 3 + 5) * nv];
            float[] logits = new float[40 * nv];
            Batch b = new Batch();
            for (int i = 0; i < 40; i++) {
                b.add((7 * i + 3) % nv, i, cache, true);
            }
            tf.forward(b, logits, pool);
            System.arraycopy(logits, 0, all, 0, 40 * nv);
            b.clear();
            for (int i = 0; i < 3; i++) {
                b.add((5 * i + 1) % nv, 40 + i, cache, true);
            }
            tf.forward(b, logits, pool);
            System.arraycopy(logits, 0, all, 40 * nv, 3 * nv);
            for (int i = 0; i < 5; i++) {
                b.clear().add((11 * i + 2) % nv, 43 + i, cache, true);
                tf.forward(b, logits, pool);
                System.arraycopy(logits, 0, all, (43 + i) * nv, nv);
            }
            return all;
        }
    }
}
