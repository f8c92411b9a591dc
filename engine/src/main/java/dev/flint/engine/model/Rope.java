package dev.flint.engine.model;

/**
 * Rotary position embedding as ggml computes it: per pair i, theta = pos * base^(-2i/d) built by repeated
 * multiplication in float, divided by the optional per-pair frequency factors (Llama 3), scaled by freq_scale, and
 * mixed with the unscaled angle by YaRN's ramp when ext_factor is non-zero.
 */
final class Rope {
    private final int dims;
    private final float thetaScale;
    private final float freqScale;
    private final float extFactor;
    private final float attnFactor;
    private final float[] freqFactors;
    private final float corrLow;
    private final float corrHigh;
    private final boolean neox;

    Rope(ModelConfig c, float[] freqFactors) {
        this.dims = c.ropeDim();
        this.thetaScale = CMath.powf(c.ropeFreqBase(), -2.0f / dims);
        this.freqScale = c.ropeFreqScale();
        this.extFactor = c.ropeExtFactor();
        this.attnFactor = c.ropeAttnFactor();
        this.freqFactors = freqFactors;
        this.neox = c.architecture().rope == Architecture.RopeStyle.NEOX;
        // YaRN correction range (ggml_rope_yarn_corr_dims with beta_fast 32, beta_slow 1)
        float start = (float) Math.floor(corrDim(dims, c.ropeOrigCtx(), 32f, c.ropeFreqBase()));
        float end = (float) Math.ceil(corrDim(dims, c.ropeOrigCtx(), 1f, c.ropeFreqBase()));
        this.corrLow = Math.max(0, start);
        this.corrHigh = Math.min(dims - 1, end);
    }

    private static float corrDim(int nDims, int nCtxOrig, float nRot, float base) {
        return (float) (nDims * Math.log(nCtxOrig / (nRot * 2 * Math.PI)) / (2 * Math.log(base)));
    }

    /** Fills {@code table[off + 2i] = cos, table[off + 2i + 1] = sin} for the dims/2 pairs at position pos. */
    void angles(int pos, float[] table, int off) {
        float theta = pos;
        float mscale = attnFactor;
        if (extFactor != 0f) {
            mscale *= 1.0f + 0.1f * (float) Math.log(1.0f / freqScale);
        }
        for (int i0 = 0; i0 < dims; i0 += 2) {
            float ff = freqFactors != null ? freqFactors[i0 / 2] : 1.0f;
            float extrap = theta / ff;
            float t = freqScale * extrap;
            if (extFactor != 0f) {
                float y = (i0 / 2 - corrLow) / Math.max(0.001f, corrHigh - corrLow);
                float rampMix = (1 - Math.min(1, Math.max(0, y))) * extFactor;
                t = t * (1 - rampMix) + extrap * rampMix;
            }
            table[off + i0] = CMath.cosf(t) * mscale;
            table[off + i0 + 1] = CMath.sinf(t) * mscale;
            theta *= thetaScale;
        }
    }

    /**
     * Rotates {@code heads} heads of size headDim stored from x[off], using angles from table[tOff]. One product of
     * each output is fused, as GCC contracts ggml's {@code x0*cos - x1*sin} and {@code x0*sin + x1*cos} (-O3
     * -march=native, C contraction on): {@code fma(x0, cos, -(x1*sin))} and {@code fma(x0, sin, x1*cos)}; checked
     * against llama.cpp's rope output value by value.
     */
    void rotate(float[] x, int off, int heads, int headDim, float[] table, int tOff) {
        int half = dims / 2;
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            for (int i0 = 0; i0 < dims; i0 += 2) {
                float cos = table[tOff + i0];
                float sin = table[tOff + i0 + 1];
                int a = neox ? base + i0 / 2 : base + i0;
                int b = neox ? a + half : a + 1;
                float x0 = x[a];
                float x1 = x[b];
                x[a] = Math.fma(x0, cos, -(x1 * sin));
                x[b] = Math.fma(x0, sin, x1 * cos);
            }
        }
    }

    int dims() {
        return dims;
    }
}
