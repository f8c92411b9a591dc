package dev.flint.engine.tensor;

import dev.flint.engine.parallel.WorkerPool;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Encoding a batch splits it into tasks by tokens, lane groups and plane pairs, and builds some layouts only on first
 * use. Every array the kernels read must hold what its definition says for the current batch: each token's values,
 * scales and sums as that token encoded alone, and the shorts, pairs, lanes and planes laid out from them; on a pool of
 * any size the same bits as on one thread. Batch sizes cover one task and several, a partial last lane group and
 * plane pair, and a batch after a larger one.
 */
class ActivationsTest {
    private static final int COLS = 512;
    private static final int CAPACITY = 100;

    @ParameterizedTest
    @EnumSource(ActivationFormat.class)
    void everyArrayHoldsItsDefinitionOnAnyPool(ActivationFormat format) {
        SplittableRandom r = new SplittableRandom(format.ordinal());
        float[] in = new float[CAPACITY * COLS];
        for (int i = 0; i < in.length; i++) {
            in[i] = (float) (r.nextGaussian() * (1 + i % 7));
        }
        Activations one = new Activations(format, CAPACITY, COLS); // reused: nothing of an earlier batch may show
        for (int n : new int[] {1, 3, 4, 15, 16, 17, 33, 40, 100, 2, 24, 5, 64}) {
            one.set(in, COLS, n);
            checkDefinitions(one, in, n, format + ", " + n + " tokens");
            for (int threads = 2; threads <= 3; threads++) {
                try (WorkerPool pool = new WorkerPool(threads)) {
                    Activations many = new Activations(format, CAPACITY, COLS);
                    many.set(in, COLS, n, pool);
                    String where = format + ", " + n + " tokens, " + threads + " threads";
                    assertEquals(n, many.tokens(), where);
                    assertEquals(one.hasLanes(), many.hasLanes(), where);
                    // the current batch's part of each array (the reused instance keeps older rows past it)
                    int b = COLS / 32;
                    int g = (n + Kernels.L - 1) / Kernels.L;
                    int p = (n + 3) / 4 * 2; // plane pairs, padded to whole pairs of pairs
                    same(one.f, many.f, n * COLS, where + ": values");
                    same(one.d, many.d, one.d.length == 0 ? 0 : n * b, where + ": scales");
                    same(one.xsum, many.xsum, one.xsum.length == 0 ? 0 : n * b, where + ": block sums");
                    if (one.q16() != null) {
                        assertArrayEquals(Arrays.copyOf(one.q16(), n * COLS), Arrays.copyOf(many.q16(), n * COLS),
                                where + ": shorts");
                    }
                    if (one.pairs16() != null) {
                        assertArrayEquals(Arrays.copyOf(one.pairs16(), n * COLS / 2),
                                Arrays.copyOf(many.pairs16(), n * COLS / 2), where + ": pairs");
                    }
                    if (one.hasLanes()) {
                        same(one.lanes, many.lanes, g * Kernels.L * COLS, where + ": lanes");
                        same(one.laneScales, many.laneScales, g * Kernels.L * b, where + ": lane scales");
                        same(one.laneSums, many.laneSums, g * Kernels.L * b, where + ": lane sums");
                        if (format == ActivationFormat.Q8_1) {
                            same(one.laneMins, many.laneMins, g * Kernels.L * b, where + ": lane minimums");
                        }
                    }
                    if (format == ActivationFormat.Q8_0 && n >= Activations.PLANE_BATCH) {
                        same(one.planes(), many.planes(), p * 2 * COLS, where + ": planes");
                        same(one.pairScales(), many.pairScales(), p * 16 * b, where + ": pair scales");
                    }
                }
            }
        }
    }

    private static void same(float[] want, float[] got, int length, String where) {
        assertArrayEquals(Arrays.copyOf(want, length), Arrays.copyOf(got, length), where);
    }

    private static void checkDefinitions(Activations a, float[] in, int n, String where) {
        int blocks = COLS / 32;
        for (int t = 0; t < n; t++) {
            Activations alone = new Activations(a.format, 1, COLS);
            alone.set(Arrays.copyOfRange(in, t * COLS, (t + 1) * COLS), COLS, 1);
            assertArrayEquals(alone.f, Arrays.copyOfRange(a.f, t * COLS, (t + 1) * COLS), where + ": token " + t);
            assertArrayEquals(alone.d, Arrays.copyOfRange(a.d, t * alone.d.length, (t + 1) * alone.d.length),
                    where + ": scales of token " + t);
            assertArrayEquals(alone.xsum, Arrays.copyOfRange(a.xsum, t * alone.xsum.length,
                    (t + 1) * alone.xsum.length), where + ": sums of token " + t);
        }
        boolean integers = a.format == ActivationFormat.Q8_0 || a.format == ActivationFormat.Q8_1
                || a.format == ActivationFormat.Q8_K;
        if (!integers) {
            return;
        }
        for (int i = 0; i < n * COLS; i++) {
            assertEquals((short) a.f[i], a.q16()[i], where + ": short " + i);
            if (a.format != ActivationFormat.Q8_K && i % 2 == 0) {
                assertEquals(a.q16()[i] & 0xFFFF | a.q16()[i + 1] << 16, a.pairs16()[i / 2], where + ": pair " + i / 2);
            }
        }
        int lanes = Kernels.L;
        assertEquals(n >= RowGroupMatrix.LANE_BATCH, a.hasLanes(), where);
        if (a.hasLanes()) {
            for (int g = 0; g < (n + lanes - 1) / lanes; g++) {
                for (int j = 0; j < lanes; j++) {
                    int t = g * lanes + j;
                    for (int i = 0; i < COLS; i++) {
                        assertEquals(t < n ? a.f[t * COLS + i] : 0f, a.lanes[(g * COLS + i) * lanes + j],
                                where + ": lane " + j + " of group " + g + ", element " + i);
                    }
                    for (int b = 0; b < blocks; b++) {
                        int at = (g * blocks + b) * lanes + j;
                        assertEquals(t < n ? a.d[t * blocks + b] : 0f, a.laneScales[at], where + ": lane scale");
                        float sum = 0;
                        for (int i = 0; i < 32 && t < n; i++) {
                            sum += a.f[t * COLS + 32 * b + i];
                        }
                        assertEquals(8 * sum, a.laneSums[at], where + ": lane sum");
                        if (a.format == ActivationFormat.Q8_1) {
                            assertEquals(t < n ? a.xsum[t * blocks + b] : 0f, a.laneMins[at], where + ": lane min");
                        }
                    }
                }
            }
        }
        if (a.format == ActivationFormat.Q8_0 && n >= Activations.PLANE_BATCH) {
            for (int p = 0; p < (n + 1) / 2; p++) {
                for (int h = 0; h < 2; h++) {
                    int t = 2 * p + h;
                    for (int b = 0; b < blocks; b++) {
                        for (int i = 0; i < 8; i++) {
                            assertEquals(t < n ? a.d[t * blocks + b] : 0f,
                                    a.pairScales()[p * 16 * blocks + 8 * h + 16 * b + i], where + ": pair scale");
                            for (int e = 0; e < 4; e++) {
                                assertEquals(t < n ? a.f[t * COLS + 32 * b + 4 * i + e] : 0f,
                                        a.planes()[p * 2 * COLS + 8 * h + 64 * b + 16 * e + i], where + ": plane");
                            }
                        }
                    }
                }
            }
        }
    }
}
