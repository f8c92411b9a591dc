package dev.flint.engine.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The vector quantizers write the bits of their one-value-at-a-time definitions: scales, every integer including the
 * sign of a zero, halves rounded to even, and blocks with zeros, ties for the largest magnitude, infinities and NaNs.
 */
class QuantizeTest {
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7})
    void vectorBlocksWriteTheScalarBits(int kind) {
        SplittableRandom r = new SplittableRandom(kind);
        for (int round = 0; round < 300; round++) {
            float[] x = block(r, kind, 256 + 3);
            int at = 1 + r.nextInt(3); // an unaligned offset
            for (int b = 0; b < 8; b++) {
                float[] want = new float[32];
                float[] got = new float[32];
                float dw = Quantize.q8_0BlockScalar(x, at + 32 * b, want, 0);
                float dg = Quantize.q8_0Block(x, at + 32 * b, got, 0);
                assertEquals(Float.floatToRawIntBits(dw), Float.floatToRawIntBits(dg), "Q8_0 scale, kind " + kind);
                for (int i = 0; i < 32; i++) {
                    assertEquals(bits(want[i]), bits(got[i]), "Q8_0 value " + i + " of " + x[at + 32 * b + i]);
                }
            }
            float[] want = new float[256];
            float[] got = new float[256];
            float dw = Quantize.q8_KBlockScalar(x, at, want, 0);
            float dg = Quantize.q8_KBlock(x, at, got, 0);
            assertEquals(bits(dw), bits(dg), "Q8_K scale, kind " + kind);
            for (int i = 0; i < 256; i++) {
                assertEquals(bits(want[i]), bits(got[i]), "Q8_K value " + i + " of " + x[at + i]);
            }
        }
    }

    /** Raw bits, except that every NaN counts as one. */
    private static int bits(float v) {
        return Float.isNaN(v) ? Float.floatToIntBits(v) : Float.floatToRawIntBits(v);
    }

    private static float[] block(SplittableRandom r, int kind, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (kind) {
                case 0 -> (float) r.nextGaussian();
                case 1 -> (float) (r.nextGaussian() * 1e-3); // many results round to a signed zero
                case 2 -> r.nextInt(5) == 0 ? 0f : r.nextBoolean() ? -0f : (float) r.nextGaussian();
                case 3 -> (r.nextInt(255) - 127) * 0.5f; // exact halves after scaling
                case 4 -> (float) (r.nextGaussian() * 1e30);
                default -> (float) r.nextGaussian();
            };
        }
        switch (kind) {
            case 5 -> { // ties for the largest magnitude, of both signs
                x[r.nextInt(n)] = 9f;
                x[r.nextInt(n)] = -9f;
            }
            case 6 -> x[r.nextInt(n)] = r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            case 7 -> x[r.nextInt(n)] = Float.NaN;
            default -> { }
        }
        return x;
    }
}
