package dev.flint.engine.tensor;

/**
 * The input of a matrix product for a batch of tokens, encoded once in the {@link ActivationFormat} a weight type's
 * dot product consumes, then read by every row of the matrix (and by every matrix that shares the input and format).
 * Layout: token-major; for the 8-bit formats the quantized values, block scales and block sums are kept in separate
 * arrays so the kernels read them contiguously.
 */
public final class Activations {
    public final ActivationFormat format;
    public final int cols;
    public final int capacity;
    /** F32/F16/BF16: the (rounded) values, {@code [token * cols + i]}. */
    public final float[] f;
    /** 8-bit formats: quantized values, {@code [token * cols + i]}. */
    public final byte[] q;
    /** 8-bit formats: scale of each block, {@code [token * blocks + b]}. */
    public final float[] d;
    /** Q8_1: d * sum(q) of each block of 32; Q8_K: sum of each group of 16 values, {@code [token * cols/16 + g]}. */
    public final float[] s;
    private int tokens;

    public Activations(ActivationFormat format, int capacity, int cols) {
        this.format = format;
        this.cols = cols;
        this.capacity = capacity;
        switch (format) {
            case F32, F16, BF16 -> {
                f = new float[capacity * cols];
                q = null;
                d = null;
                s = null;
            }
            case Q8_0, Q8_1 -> {
                requireMultiple(cols, 32);
                f = null;
                q = new byte[capacity * cols];
                d = new float[capacity * (cols / 32)];
                s = format == ActivationFormat.Q8_1 ? new float[capacity * (cols / 32)] : null;
            }
            case Q8_K -> {
                requireMultiple(cols, 256);
                f = null;
                q = new byte[capacity * cols];
                d = new float[capacity * (cols / 256)];
                s = new float[capacity * (cols / 16)];
            }
            default -> throw new IllegalArgumentException(format.name());
        }
    }

    private static void requireMultiple(int cols, int block) {
        if (cols % block != 0) {
            throw new IllegalArgumentException("row length " + cols + " is not a multiple of " + block);
        }
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
            encodeRow(x, t * stride, t);
        }
        tokens = n;
    }

    private void encodeRow(float[] x, int off, int t) {
        int o = t * cols;
        switch (format) {
            case F32 -> System.arraycopy(x, off, f, o, cols);
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    f[o + i] = Float.float16ToFloat(Float.floatToFloat16(x[off + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < cols; i++) {
                    f[o + i] = Numerics.bf16ToFloat(Numerics.floatToBf16(x[off + i]));
                }
            }
            case Q8_0 -> Quantize.q8_0(x, off, cols, q, o, d, t * (cols / 32), null);
            case Q8_1 -> Quantize.q8_0(x, off, cols, q, o, d, t * (cols / 32), s);
            case Q8_K -> Quantize.q8_K(x, off, cols, q, o, d, t * (cols / 256), s, t * (cols / 16));
        }
    }
}
