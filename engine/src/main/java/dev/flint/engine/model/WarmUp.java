package dev.flint.engine.model;

import dev.flint.engine.parallel.WorkerPool;

/**
 * Throwaway forward passes at load time, so C2 compiles a model's kernels before the first request needs them rather
 * than during it. Runs what serving runs: a prompt-sized batch, single-token decode steps, a cached run moved by one
 * position, a batch of two new tokens (a keystroke) and ones of seventeen and sixteen with logits for each (a
 * keystroke that adds a line with its indentation, or a speculative verification).
 * <p>
 * C2 compiles what the profile saw: a branch never taken here becomes a trap that sends the method back to the
 * interpreter when a request first takes it. So each batch size reaches its own kernels, and the shapes vary the way
 * requests do: a prompt of 63 tokens (three whole groups of 16 for the repacked types' tiles of three token groups;
 * Q8_0 runs the 15 left over per token, Q4_0 and Q5_0 as a fourth group partly filled, their one-group tile; for the
 * other types the tokens-in-lanes products start at 33, and the last group of 16 is partial, as almost every real
 * prompt's is; K-quant rows of 1024 columns or more run several spans), seventeen tokens for the small-batch
 * products (the planes of Q8_0 rows that are not repacked take 17-31; repacked Q8_0 runs one group of 16 in the
 * lanes and the seventeenth per token; smaller batches run the two-token batch's per-token loops, and an odd count leaves the last pair half
 * empty), sixteen for Q8_0's one-group lanes (a whole group, the prompt's last being partial), and in
 * the last round decode steps and a batch further into the cache, so that attention's score buffers grow once more
 * after the first compile and its products run at lengths past one 64-float step. Without a small batch, the first
 * Enter typed into a fresh server waited about a second; with a whole last group, the first long prompt dropped its
 * Q8_0 product back to the interpreter; with decode steps only near the start, the first decode step at a few
 * hundred cells took 70 ms instead of 20; with thirteen tokens instead of sixteen, the first whole group of sixteen
 * took 560 ms instead of 240.
 * Used for the served model and for a draft model alike.
 */
public final class WarmUp {
    private WarmUp() {
    }

    /** Cells between the last round's far batch and the others: attention then spans a few hundred cells. */
    private static final int FAR = 256;

    /** Runs the passes on a scratch cache of the transformer; {@code promptTokens} is the prompt batch size. */
    public static void run(Transformer tf, WorkerPool pool, int promptTokens) {
        int n = Math.min(promptTokens, 63);
        int mid = Math.min(promptTokens, 17);
        int small = Math.min(promptTokens, 16);
        int few = Math.min(promptTokens, 7);
        var cache = tf.newCache(n + 14 + mid + FAR);
        Batch b = new Batch();
        float[] logits = new float[mid * tf.vocabularySize()];
        for (int round = 0; round < 3; round++) {
            b.clear();
            for (int i = 0; i < n; i++) {
                b.add(i % tf.vocabularySize(), i, cache, i == n - 1);
            }
            tf.forward(b, logits, pool);
            // in the last round, decode steps far into the cache too: past 64 cells a step's weights·V products
            // leave the 64-float form that a step near the start takes (GgmlMath.dotSingle16)
            int step = n + (round == 2 ? FAR : 0);
            for (int i = 0; i < 12; i++) {
                b.clear().add(1, step + i, cache, true);
                tf.forward(b, logits, pool);
            }
            // what a keystroke runs: a cached run moved by one position, then a batch of two new tokens
            tf.shiftCache(cache, 1, 2, n - 1);
            b.clear().add(2, n + 12, cache, false).add(3, n + 13, cache, true);
            tf.forward(b, logits, pool);
            int at = n + 14 + (round == 2 ? FAR : 0);
            b.clear();
            for (int i = 0; i < mid; i++) {
                b.add((4 + i) % tf.vocabularySize(), at + i, cache, true);
            }
            tf.forward(b, logits, pool);
            // and ones of sixteen (Q8_0's one-group lanes take 11-16) and seven (per-token loops past two tokens),
            // over the same cells
            for (int size : new int[] {small, few}) {
                b.clear();
                for (int i = 0; i < size; i++) {
                    b.add((5 + i) % tf.vocabularySize(), at + i, cache, true);
                }
                tf.forward(b, logits, pool);
            }
        }
    }
}
