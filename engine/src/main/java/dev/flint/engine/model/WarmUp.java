package dev.flint.engine.model;

import dev.flint.engine.parallel.WorkerPool;

/**
 * Throwaway forward passes at load time, so C2 compiles a model's kernels before the first request needs them rather
 * than during it. Runs what serving runs: a prompt-sized batch, single-token decode steps, a cached run moved by one
 * position and a batch of two new tokens (a keystroke). Used for the served model and for a draft model alike.
 */
public final class WarmUp {
    private WarmUp() {
    }

    /** Runs the passes on a scratch cache of the transformer; {@code promptTokens} is the prompt batch size. */
    public static void run(Transformer tf, WorkerPool pool, int promptTokens) {
        int n = Math.min(promptTokens, 32);
        var cache = tf.newCache(n + 16);
        Batch b = new Batch();
        float[] logits = new float[tf.vocabularySize()];
        for (int round = 0; round < 3; round++) {
            b.clear();
            for (int i = 0; i < n; i++) {
                b.add(i % tf.vocabularySize(), i, cache, i == n - 1);
            }
            tf.forward(b, logits, pool);
            for (int i = 0; i < 12; i++) {
                b.clear().add(1, n + i, cache, true);
                tf.forward(b, logits, pool);
            }
            // what a keystroke runs: a cached run moved by one position, then a batch of two new tokens
            tf.shiftCache(cache, 1, 2, n - 1);
            b.clear().add(2, n + 12, cache, false).add(3, n + 13, cache, true);
            tf.forward(b, logits, pool);
        }
    }
}
