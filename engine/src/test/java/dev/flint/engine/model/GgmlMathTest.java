package dev.flint.engine.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Attention's dot products run 16-lane vectors with AVX-512 and two 8-lane halves without it: the same float
 * operations, so the same bits (compared here where both run natively).
 */
class GgmlMathTest {
    @ParameterizedTest
    @ValueSource(ints = {16, 32, 64, 96, 128, 130, 256, 1000})
    void halvesComputeTheSameBitsAsSixteenLanes(int n) {
        SplittableRandom r = new SplittableRandom(n);
        float[] a = new float[n + 3];
        float[] b = new float[n + 5];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian()));
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) r.nextGaussian();
        }
        float[] scratch = new float[16];
        int batchN = n & ~15;
        for (int off = 0; off < 3; off++) {
            assertEquals(GgmlMath.dotSingle(a, off, b, off + 2, n, scratch),
                    GgmlMath.dotSingleHalves(a, off, b, off + 2, n, scratch), 0f, "single, n " + n);
            assertEquals(GgmlMath.dotBatch(a, off, b, off + 2, batchN, scratch),
                    GgmlMath.dotBatchHalves(a, off, b, off + 2, batchN, scratch), 0f, "batch, n " + batchN);
        }
    }
}
