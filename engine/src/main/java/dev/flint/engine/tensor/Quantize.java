package dev.flint.engine.tensor;

/**
 * Quantization of activations to ggml's 8-bit formats with the rounding llama.cpp's x86 CPU build applies on the
 * paths the reference fixtures exercise. Q8_0/Q8_1: d = amax / 127 stored as F16, q = roundf(x / d) (halves away
 * from zero, as quantize_row_q8_0_ref and the repacked-Q4_0 path do). Q8_K: iscale = -127 / (the value of largest
 * magnitude), q = min(127, nearest(x * iscale)), d = 1 / iscale in F32. The quantized integers are written as floats.
 */
public final class Quantize {
    private Quantize() {}

    /** One block of 32 to Q8_0: writes q to out, returns the block's scale (as the F16 value the dot uses). */
    static float q8_0Block(float[] x, int xo, float[] out, int oo) {
        float amax = 0f;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[xo + i]));
        }
        float d = amax / 127f;
        float id = amax != 0f ? 127f / amax : 0f;
        for (int i = 0; i < 32; i++) {
            out[oo + i] = (float) Math.rint(x[xo + i] * id);
        }
        return Numerics.roundToF16(d);
    }

    /** One block of 256 to Q8_K: writes q to out, returns the F32 scale. */
    static float q8_KBlock(float[] x, int xo, float[] out, int oo) {
        float max = 0f;
        float amax = 0f;
        for (int i = 0; i < 256; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax == 0f) {
            java.util.Arrays.fill(out, oo, oo + 256, 0f);
            return 0f;
        }
        float iscale = -127f / max;
        for (int i = 0; i < 256; i++) {
            out[oo + i] = Math.min(127, nearestInt(iscale * x[xo + i]));
        }
        return 1f / iscale;
    }

    /** C's roundf: halves away from zero. */
    static float roundf(float v) {
        return (float) (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));
    }

    /** ggml's nearest_int: round half to even through the float mantissa trick. */
    static int nearestInt(float f) {
        return (int) Math.rint(f);
    }
}
