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

    /** The four interleaved chains give each product's own bits (attention relies on it to match llama.cpp). */
    @ParameterizedTest
    @ValueSource(ints = {16, 64, 128, 512, 1008})
    void fourChainsComputeTheSameBitsAsOneEach(int n) {
        SplittableRandom r = new SplittableRandom(n + 7);
        int stride = n + 48;
        float[] a = new float[n + 3];
        float[] b = new float[4 * stride + n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian()));
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (r.nextGaussian() * Math.exp(2 * r.nextGaussian()));
        }
        float[] scratch = new float[16];
        float[] out = new float[6];
        for (int off = 0; off < 3; off++) {
            GgmlMath.dotBatch4(a, off, b, off + 5, stride, n, out, 1, scratch);
            for (int k = 0; k < 4; k++) {
                float one = GgmlMath.dotBatch(a, off, b, off + 5 + k * stride, n, scratch);
                assertEquals(Float.floatToRawIntBits(one), Float.floatToRawIntBits(out[1 + k]), "n " + n + ", k " + k);
            }
            assertEquals(0f, out[0]);
            assertEquals(0f, out[5]);
        }
    }

    /**
     * Sixteen products reduced side by side give each product's own bits, single-token and batch kinds, with and
     * without leftovers past the last whole step (a head of 64 or 128 floats, or cells padded to 32).
     */
    @ParameterizedTest
    @ValueSource(ints = {16, 32, 64, 96, 128, 160, 1024, 1056})
    void sixteenProductsReducedTogetherComputeEachProductsBits(int n) {
        SplittableRandom r = new SplittableRandom(n + 11);
        int stride = n + 32;
        float[] a = new float[n + 3];
        float[] b = new float[16 * stride + n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian()));
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (r.nextGaussian() * Math.exp(2 * r.nextGaussian()));
        }
        float[] scratch = new float[256];
        float[] out = new float[18];
        for (int off = 0; off < 3; off++) {
            GgmlMath.dotSingle16(a, off, b, off + 5, stride, n, out, 1, scratch);
            for (int k = 0; k < 16; k++) {
                float one = GgmlMath.dotSingle(a, off, b, off + 5 + k * stride, n, new float[16]);
                assertEquals(Float.floatToRawIntBits(one), Float.floatToRawIntBits(out[1 + k]),
                        "single, n " + n + ", k " + k);
            }
            GgmlMath.dotBatch16(a, off, b, off + 5, stride, n & ~15, out, 1, scratch);
            for (int k = 0; k < 16; k++) {
                float one = GgmlMath.dotBatch(a, off, b, off + 5 + k * stride, n & ~15, new float[16]);
                assertEquals(Float.floatToRawIntBits(one), Float.floatToRawIntBits(out[1 + k]),
                        "batch, n " + n + ", k " + k);
            }
            assertEquals(0f, out[0]);
            assertEquals(0f, out[17]);
        }
    }

    /**
     * Probabilities scaled and rounded to half precision on their bits give Float.floatToFloat16's rounding: across
     * [0, 1], in the half subnormals below 2^-14, at ties between two halves, and at the edges of both ranges.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 15, 16, 17, 1000})
    void halfRoundingOnTheBitsMatchesFloatToFloat16(int n) {
        SplittableRandom r = new SplittableRandom(n);
        float[] special = {0f, 1f, 0x1p-14f, Math.nextDown(0x1p-14f), 0x1p-24f, 0x1p-25f, Math.nextUp(0x1p-25f),
            0x1.5p-24f, 0x1.8p-24f, 0x1.8p-23f, 1f + 0x1p-11f, 1f + 0x3p-11f, 0.5f + 0x1p-12f, Float.MIN_VALUE};
        for (int round = 0; round < 50; round++) {
            float[] p = new float[n];
            for (int j = 0; j < n; j++) {
                p[j] = switch (r.nextInt(4)) {
                    case 0 -> special[r.nextInt(special.length)];
                    case 1 -> (float) r.nextDouble();
                    case 2 -> (float) Math.exp(-r.nextDouble(30));
                    default -> Float.intBitsToFloat(r.nextInt(0x3F800001)); // any float in [0, 1]
                };
            }
            float scale = round % 2 == 0 ? 1f : (float) (1 / (1 + r.nextDouble(20)));
            float[] expected = new float[n];
            for (int j = 0; j < n; j++) {
                expected[j] = Float.float16ToFloat(Float.floatToFloat16(p[j] * scale));
            }
            GgmlMath.scaleToHalf(p, scale, n);
            for (int j = 0; j < n; j++) {
                assertEquals(Float.floatToRawIntBits(expected[j]), Float.floatToRawIntBits(p[j]), "lane " + j);
            }
        }
    }

    /**
     * Sixteen exponentials at once give expf's bits lane for lane, and the same sum, across the range softmax sees:
     * down to where results turn subnormal and past ggml's cut-off (those chunks go lane by lane).
     */
    @ParameterizedTest
    @ValueSource(floats = {0.5f, 4f, 30f, 88f, 100f, 200f})
    void sixteenExponentialsComputeExpfsBits(float spread) {
        SplittableRandom r = new SplittableRandom(Float.floatToIntBits(spread));
        for (int round = 0; round < 2000; round++) {
            float[] s = new float[20];
            for (int i = 0; i < s.length; i++) {
                s[i] = (float) (-r.nextDouble() * spread);
            }
            float max = round % 3 == 0 ? 0f : (float) (r.nextDouble() * 2 - 1);
            float[] want = s.clone();
            float[] lanes = new float[16];
            for (int k = 0; k < 16; k++) {
                want[2 + k] = GgmlMath.expf(s[2 + k] - max);
                lanes[k] = want[2 + k];
            }
            float wantSum = GgmlMath.reduce16(lanes);
            float sum = GgmlMath.expSum16(s, 2, max);
            assertEquals(Float.floatToRawIntBits(wantSum), Float.floatToRawIntBits(sum), "sum, spread " + spread);
            for (int i = 0; i < s.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(s[i]), "cell " + i);
            }
        }
    }

    /**
     * SwiGLU sixteen lanes at a time gives silu's bits element for element: over the range where the exponential is a
     * normal float, past it (those chunks go element by element), with infinities and NaNs, and in the tail shorter
     * than sixteen.
     */
    @ParameterizedTest
    @ValueSource(floats = {0.5f, 8f, 87f, 100f, 300f})
    void swiGluComputesSilusBits(float spread) {
        SplittableRandom r = new SplittableRandom(Float.floatToIntBits(spread));
        for (int round = 0; round < 500; round++) {
            int n = 1 + r.nextInt(70);
            float[] gate = new float[n];
            float[] up = new float[n];
            for (int i = 0; i < n; i++) {
                gate[i] = (float) ((r.nextDouble() * 2 - 1) * spread);
                up[i] = (float) r.nextGaussian();
            }
            if (round % 50 == 0) {
                gate[r.nextInt(n)] = round % 100 == 0 ? Float.NaN : Float.NEGATIVE_INFINITY;
            }
            int from = r.nextInt(n);
            float[] want = up.clone();
            for (int i = from; i < n; i++) {
                want[i] *= GgmlMath.silu(gate[i]);
            }
            GgmlMath.swiGlu(up, gate, from, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(up[i]),
                        "element " + i + " of " + n + " from " + from + ", gate " + gate[i]);
            }
        }
    }
}
