package dev.flint.engine.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * For every supported type, on random valid blocks: the vectorised dot product equals the dot product of the
 * dequantized row with the encoded activations, and a batched matrix product equals per-token dot products.
 */
class KernelConsistencyTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void dotMatchesDequantizedRowAndBatchMatchesSingle(GgmlType type) {
        int rows = 24;
        int cols = 512;
        byte[] bytes = RandomWeights.bytes(type, (long) rows * cols, 11);
        WeightMatrix w = WeightMatrix.of(type, MemorySegment.ofArray(bytes), rows, cols);
        int tokens = 5;
        float[] in = new float[tokens * cols];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < in.length; i++) {
            in[i] = (float) r.nextGaussian();
        }
        Activations x = new Activations(w.activationFormat(), tokens, cols);
        x.set(in, cols, tokens);
        float[] row = new float[cols];
        float[] batch = new float[tokens * rows];
        w.matmul(x, batch, rows, 0, rows);
        for (int rr = 0; rr < rows; rr++) {
            w.dequantizeRow(rr, row, 0);
            for (int t = 0; t < tokens; t++) {
                double ref = 0;
                for (int i = 0; i < cols; i++) {
                    double xv = x.d.length == 0 ? x.f[t * cols + i] : x.f[t * cols + i] * x.d[(t * cols + i) / 32];
                    ref += (double) row[i] * xv;
                }
                float single = w.dot(rr, x, t);
                double tol = 1e-4 * Math.max(1, Math.abs(ref));
                assertEquals(ref, single, tol, type + " dot row " + rr + " token " + t);
                assertEquals(ref, batch[t * rows + rr], tol, type + " batch row " + rr + " token " + t);
            }
        }
        // batches of two and three tokens (a keystroke's) take other kernels than larger ones: same results
        for (int n = 2; n <= 3; n++) {
            Activations small = new Activations(w.activationFormat(), n, cols);
            small.set(in, cols, n);
            float[] got = new float[n * rows];
            w.matmul(small, got, rows, 0, rows);
            for (int i = 0; i < n * rows; i++) {
                assertEquals(batch[i], got[i], 0f, type + " batch of " + n + " at " + i);
            }
        }
        // a single token takes the fused kernels where a type has them: bit-identical to the decoded path
        Activations one = new Activations(w.activationFormat(), 1, cols);
        one.set(in, cols, 1);
        float[] single = new float[rows];
        w.matmul(one, single, rows, 0, rows);
        for (int rr = 0; rr < rows; rr++) {
            assertEquals(w.dot(rr, one, 0), single[rr], 0f, type + " single-token row " + rr);
        }
    }

    /**
     * Long batches take the tiled kernels (tokens in lanes, several groups of 16 per tile, the last group partial,
     * several chunks of groups at 250 tokens, row ranges that split the tiles): every result equals the single-token
     * dot product bit for bit.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void longBatchesEqualSingleTokensExactly(GgmlType type) {
        assertLongBatchesEqualSingleTokens(type, 50, 768, new int[] {40, 100, 250});
    }

    /**
     * Batches of one or two token groups (Q8_0 from 11 tokens and the K-quants from 9 take the lanes with some of them
     * empty) and prompts whose last one or two groups are left over from the tiles (50 tokens: four groups, 80:
     * five): same bits as single tokens.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void smallAndLeftOverGroupsEqualSingleTokensExactly(GgmlType type) {
        assertLongBatchesEqualSingleTokens(type, 50, 768, new int[] {9, 11, 16, 20, 50, 80});
    }

    /**
     * Rows so wide that Q8_0's token chunks would hold too few groups (all groups in one chunk) and that the K-quant
     * tiles run their twelve super-blocks in three spans, carrying each row's lane chains from one to the next (two,
     * three and four token groups): same results.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void longBatchesOfWideRowsEqualSingleTokensExactly(GgmlType type) {
        assertLongBatchesEqualSingleTokens(type, 40, 3072, new int[] {20, 40, 50});
    }

    private static void assertLongBatchesEqualSingleTokens(GgmlType type, int rows, int cols, int[] batches) {
        byte[] bytes = RandomWeights.bytes(type, (long) rows * cols, 12);
        WeightMatrix w = WeightMatrix.of(type, MemorySegment.ofArray(bytes), rows, cols);
        SplittableRandom r = new SplittableRandom(4);
        for (int tokens : batches) {
            float[] in = new float[tokens * cols];
            for (int i = 0; i < in.length; i++) {
                in[i] = (float) (r.nextGaussian() * (1 + i % 5));
            }
            Activations x = new Activations(w.activationFormat(), tokens, cols);
            x.set(in, cols, tokens);
            float[] batch = new float[tokens * rows];
            // ranges that split four-row tiles, and a middle one that holds a whole group of 16 rows (repacked types)
            w.matmul(x, batch, rows, 0, 13);
            w.matmul(x, batch, rows, 13, 35);
            w.matmul(x, batch, rows, 35, rows);
            for (int t = 0; t < tokens; t++) {
                for (int rr = 0; rr < rows; rr++) {
                    assertEquals(w.dot(rr, x, t), batch[t * rows + rr], 0f,
                            type + " batch of " + tokens + " row " + rr + " token " + t);
                }
            }
        }
    }
}
