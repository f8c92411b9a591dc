package dev.flint.engine.tensor;

/**
 * The input of a matrix product for a batch of tokens, encoded once the way a weight type's dot product reads it
 * (ggml's vec_dot_type, see {@link ActivationFormat}) and then read by every row of the matrix.
 *
 * <p>F32/F16/BF16: {@link #f} holds the values (rounded to the format). 8-bit formats: {@link #f} holds the quantized
 * integers (as floats: products and block sums of such integers are exact in float, so the kernels compute
 * llama.cpp's integer dot products exactly), {@link #d} the scale of each 32 values, and {@link #xsum} what a block
 * minimum multiplies: for Q8_1 the stored {@code s = fp16(d * sum(q))}, for Q8_K {@code d * sum(q)} per 32; for Q8_0
 * the integer sum {@code sum(q)} per 32 (Q4_0's kernels take the nibbles' bias of 8 off with it).
 * Layout is token-major: row t starts at {@code t * cols}; per-32 arrays at {@code t * cols / 32}.
 *
 * <p>Q8_0 batches of at least {@link Q4_0Matrix#LANE_BATCH} tokens are also laid out with the tokens in the vector
 * lanes ({@link #lanes}, {@link #laneScales}, {@link #laneSums}), for kernels that compute one token per lane.
 */
public final class Activations {
    public final ActivationFormat format;
    public final int cols;
    public final int capacity;
    public final float[] f;
    public final float[] d;
    public final float[] xsum;
    private int tokens;

    public Activations(ActivationFormat format, int capacity, int cols) {
        this.format = format;
        this.cols = cols;
        this.capacity = capacity;
        int block = switch (format) {
            case Q8_0, Q8_1 -> 32;
            case Q8_K -> 256;
            default -> 1;
        };
        if (cols % block != 0) {
            throw new IllegalArgumentException("row length " + cols + " is not a multiple of " + block + " for " + format);
        }
        this.f = new float[capacity * cols];
        boolean quantized = block > 1;
        this.d = quantized ? new float[capacity * (cols / 32)] : new float[0];
        this.xsum = quantized ? new float[capacity * (cols / 32)] : new float[0];
    }

    private float[] dequantized;

    /**
     * Q8_0 batches of {@link Q4_0Matrix#LANE_BATCH} or more tokens, tokens in lanes: groups of {@code L} tokens (the
     * float vector length; the last group padded with zeros); in group g, element i of token g * L + j is at
     * {@code lanes[(g * cols + i) * L + j]}, its block's scale at {@code laneScales[(g * cols / 32 + i / 32) * L + j]}
     * and {@code 8 * sum(q)} of its block at the same index of {@code laneSums}. Null until a batch needs them.
     */
    float[] lanes;
    float[] laneScales;
    float[] laneSums;
    private boolean hasLanes;

    /** Whether {@link #lanes} hold the current batch. */
    boolean hasLanes() {
        return hasLanes;
    }

    /**
     * The encoded values times their scales ({@code q * d}): the Q8_0 batch kernel multiplies dequantized weights by
     * these. Computed in {@link #set} (kernels on several threads read it; nothing is computed lazily here).
     */
    public float[] dequantized() {
        return d.length == 0 ? f : dequantized;
    }

    /** Number of tokens currently encoded. */
    public int tokens() {
        return tokens;
    }

    /** Encodes {@code n} rows of {@code cols} floats from {@code x} (row t at {@code x[t * stride]}). */
    public void set(float[] x, int stride, int n) {
        if (n > capacity) {
            throw new IllegalArgumentException("batch of " + n + " exceeds capacity " + capacity);
        }
        for (int t = 0; t < n; t++) {
            encodeRow(x, t * stride, t * cols, t * (cols / 32));
        }
        tokens = n;
        hasLanes = format == ActivationFormat.Q8_0 && n >= Q4_0Matrix.LANE_BATCH;
        if (hasLanes) {
            transposeToLanes(n);
        }
        if (format == ActivationFormat.Q8_0) {
            if (dequantized == null) {
                dequantized = new float[f.length];
            }
            for (int i = 0; i < n * cols; i++) {
                dequantized[i] = f[i] * d[i / 32];
            }
        }
    }

    private void transposeToLanes(int n) {
        int lanesPer = Kernels.L;
        int groups = (n + lanesPer - 1) / lanesPer;
        int blocks = cols / 32;
        int size = groups * lanesPer * cols;
        if (lanes == null || lanes.length < size) {
            int capGroups = (capacity + lanesPer - 1) / lanesPer;
            lanes = new float[capGroups * lanesPer * cols];
            laneScales = new float[capGroups * lanesPer * blocks];
            laneSums = new float[capGroups * lanesPer * blocks];
        }
        for (int g = 0; g < groups; g++) {
            for (int j = 0; j < lanesPer; j++) {
                int t = g * lanesPer + j;
                boolean real = t < n;
                for (int i = 0; i < cols; i++) {
                    lanes[(g * cols + i) * lanesPer + j] = real ? f[t * cols + i] : 0f;
                }
                for (int b = 0; b < blocks; b++) {
                    laneScales[(g * blocks + b) * lanesPer + j] = real ? d[t * blocks + b] : 0f;
                    laneSums[(g * blocks + b) * lanesPer + j] = real ? 8f * xsum[t * blocks + b] : 0f;
                }
            }
        }
    }

    private void encodeRow(float[] x, int off, int o, int g) {
        switch (format) {
            case F32 -> System.arraycopy(x, off, f, o, cols);
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    f[o + i] = Numerics.roundToF16(x[off + i]);
                }
            }
            case BF16 -> {
                for (int i = 0; i < cols; i++) {
                    f[o + i] = Numerics.bf16ToFloat(Numerics.floatToBf16(x[off + i]));
                }
            }
            case Q8_0, Q8_1 -> {
                for (int b = 0; b < cols / 32; b++) {
                    float scale = Quantize.q8_0Block(x, off + 32 * b, f, o + 32 * b);
                    d[g + b] = scale;
                    if (format == ActivationFormat.Q8_1) {
                        xsum[g + b] = Numerics.roundToF16(scale * blockSum(o + 32 * b, 32));
                    } else {
                        xsum[g + b] = blockSum(o + 32 * b, 32);
                    }
                }
            }
            case Q8_K -> {
                for (int b = 0; b < cols / 256; b++) {
                    float scale = Quantize.q8_KBlock(x, off + 256 * b, f, o + 256 * b);
                    for (int k = 0; k < 8; k++) {
                        d[g + 8 * b + k] = scale;
                        xsum[g + 8 * b + k] = scale * blockSum(o + 256 * b + 32 * k, 32);
                    }
                }
            }
        }
    }

    private float blockSum(int from, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) {
            s += f[from + i];
        }
        return s;
    }
}
