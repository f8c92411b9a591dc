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

    /** Decode steps reduce each key's lanes by shuffles in registers: the same bits as through an array. */
    @ParameterizedTest
    @ValueSource(ints = {1, 15, 16, 37, 250})
    void keysReducedInRegistersGiveTheSameBits(int count) {
        SplittableRandom r = new SplittableRandom(count);
        for (int hd : new int[] {64, 128}) {
            int stride = 2 * hd + 8; // keys of one head inside wider rows, as in the cache
            float[] q = new float[hd];
            float[] k = new float[count * stride + 3];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian()));
            }
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) r.nextGaussian();
            }
            float[] out = new float[count];
            GgmlMath.dotsSingle(q, k, 3, stride, count, hd, out);
            for (int j = 0; j < count; j++) {
                assertEquals(GgmlMath.dotSingle(q, 0, k, 3 + j * stride, hd, new float[16]), out[j], 0f,
                        "key " + j + " of " + count + ", head dim " + hd);
            }
        }
    }
}
