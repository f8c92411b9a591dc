package dev.flint.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * Quantization of activations to ggml's 8-bit formats with the rounding llama.cpp's x86 CPU build applies on the
 * paths the reference fixtures exercise. Q8_0/Q8_1: d = amax / 127 stored as F16, q = x * (127 / amax) rounded to
 * nearest, halves to even (quantize_row_q8_0's AVX path, _mm256_round_ps). Q8_K: iscale = -127 / (the value of largest
 * magnitude), q = min(127, nearest(x * iscale)), d = 1 / iscale in F32. The quantized integers are written as floats.
 */
public final class Quantize {
    private Quantize() {}

    /** One block of 32 to Q8_0: writes q to out, returns the block's scale (as the F16 value the dot uses). */
    static float q8_0Block(float[] x, int xo, float[] out, int oo) {
        if (L > 32) {
            return q8_0BlockScalar(x, xo, out, oo);
        }
        FloatVector m = FloatVector.zero(F);
        for (int i = 0; i < 32; i += L) {
            m = m.max(FloatVector.fromArray(F, x, xo + i).abs());
        }
        float amax = m.reduceLanes(VectorOperators.MAX); // NaN if any is, as Math.max gives
        float d = amax / 127f;
        float id = amax != 0f ? 127f / amax : 0f;
        for (int i = 0; i < 32; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i).mul(id);
            // rint: |v| <= 127 (or NaN), so adding and taking off 1.5 * 2^23 rounds half to even; rint keeps the sign
            // of a zero result, the addition does not
            IntVector r = v.add(ROUNDER).sub(ROUNDER).viewAsIntegralLanes().and(0x7FFFFFFF);
            r.or(v.viewAsIntegralLanes().and(0x80000000)).viewAsFloatingLanes().intoArray(out, oo + i);
        }
        return Numerics.roundToF16(d);
    }

    /** {@link #q8_0Block} one value at a time: the definition the vector version is tested against. */
    static float q8_0BlockScalar(float[] x, int xo, float[] out, int oo) {
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
        if (L > 256) {
            return q8_KBlockScalar(x, xo, out, oo);
        }
        FloatVector m = FloatVector.zero(F);
        for (int i = 0; i < 256; i += L) {
            m = m.max(FloatVector.fromArray(F, x, xo + i).abs());
        }
        float amax = m.reduceLanes(VectorOperators.MAX);
        if (!Float.isFinite(amax) || amax == 0f) {
            // NaNs (which the scalar search skips) and infinities (whose products are NaN) take the definition
            return q8_KBlockScalar(x, xo, out, oo);
        }
        int at = 0;
        while (Math.abs(x[xo + at]) != amax) { // the first value of largest magnitude, as the scalar search keeps
            at++;
        }
        float iscale = -127f / x[xo + at];
        for (int i = 0; i < 256; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i).mul(iscale);
            // nearest_int's 1.5 * 2^23 addition (|v| <= 127), then + 0 so that a zero is +0 as the int's float is
            v.add(ROUNDER).sub(ROUNDER).add(0f).min(127f).intoArray(out, oo + i);
        }
        return 1f / iscale;
    }

    /** {@link #q8_KBlock} one value at a time: the definition the vector version is tested against. */
    static float q8_KBlockScalar(float[] x, int xo, float[] out, int oo) {
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

    /** 1.5 * 2^23: added to and taken off a float of magnitude up to 2^22, it rounds it to an integer, half to even. */
    private static final float ROUNDER = 0x1.8p23f;

    /** C's roundf: halves away from zero. */
    static float roundf(float v) {
        return (float) (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));
    }

    /** ggml's nearest_int: round half to even through the float mantissa trick. */
    static int nearestInt(float f) {
        return (int) Math.rint(f);
    }
}
