package dev.flint.engine.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * The block-quantized types. Each type only says how to decode a row into small integers (as floats), one scale per
 * group of {@link #group} values, and, for types with block minimums, one minimum per group; the products are shared.
 * Against 8-bit activations (integers too) the per-group sums of products are exact in float, so a row's dot product
 * is llama.cpp's: {@code sum over groups of (scale * d_x) * isum + min * xsum}. A row is decoded once and reused for
 * every token of a batch.
 */
abstract class QuantizedMatrix extends WeightMatrix {
    /** Values per scale: 32, or 16 for Q6_K. */
    protected final int group;
    private final boolean hasMin;
    private final ThreadLocal<float[][]> decoded;
    /** Batches up to this size run the fused kernel per token (measured: from 4 tokens on, the tiles win). */
    static final int SMALL_BATCH = 3;

    QuantizedMatrix(GgmlType type, MemorySegment data, int rows, int cols, int group, boolean hasMin) {
        super(type, data, rows, cols);
        this.group = group;
        this.hasMin = hasMin;
        this.decoded = ThreadLocal.withInitial(() -> new float[][] {
                new float[cols], new float[cols / group], new float[hasMin ? cols / group : 0], new float[L],
                new float[cols], new float[cols], new float[cols], new float[cols]});
    }

    /** Writes row {@code row}'s integers to q, each group's scale to scale and (if any) its minimum to min. */
    protected abstract void decodeRow(int row, float[] q, float[] scale, float[] min);

    @Override
    public void dequantizeRow(int row, float[] out, int off) {
        float[][] b = decoded.get();
        decodeRow(row, b[0], b[1], b[2]);
        for (int i = 0; i < cols; i++) {
            int g = i / group;
            out[off + i] = b[1][g] * b[0][i] + (hasMin ? b[2][g] : 0f);
        }
    }

    @Override
    protected float dot(int row, float[] x, int xo, float[] sums, int so) {
        throw new UnsupportedOperationException("quantized rows are multiplied through matmul");
    }

    @Override
    public float dot(int row, Activations x, int token) {
        float[][] b = decoded.get();
        decodeRow(row, b[0], b[1], b[2]);
        return dotDecoded(b, x, token);
    }

    /**
     * A single-token dot product straight from the mapped bytes, without decoding the row to memory first (decode
     * steps are memory bound). Returns NaN where a type has no such kernel. Must perform the same float operations
     * in the same order as the decoded path, so results do not depend on the batch size.
     */
    protected float fusedDot(int row, Activations x, float[] lanes) {
        return Float.NaN;
    }

    /**
     * {@link #fusedDot} for token {@code t} of a batch, where a type has it (NaN otherwise): batches of two or three
     * tokens (a keystroke's new tokens) read each row once from memory and then from the cache, instead of decoding
     * it to an array first. Same operations as the batch kernels.
     */
    protected float fusedDot(int row, Activations x, int t, float[] lanes) {
        return Float.NaN;
    }

    @Override
    public void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        int n = x.tokens();
        float[][] b = decoded.get();
        if (n > 1 && n <= SMALL_BATCH && !Float.isNaN(fusedDot(rowFrom, x, 0, b[3]))) {
            for (int r = rowFrom; r < rowTo; r++) {
                for (int t = 0; t < n; t++) {
                    out[t * outStride + r] = fusedDot(r, x, t, b[3]);
                }
            }
            return;
        }
        if (n == 1) {
            float first = fusedDot(rowFrom, x, b[3]);
            if (!Float.isNaN(first)) {
                out[rowFrom] = first;
                for (int r = rowFrom + 1; r < rowTo; r++) {
                    out[r] = fusedDot(r, x, b[3]);
                }
                return;
            }
        }
        int r0 = rowFrom;
        if (type == GgmlType.Q8_0 && n >= 4) {
            // tiles of 4 rows x 4 tokens: each loaded weight and activation vector feeds four FMAs
            float[] xdq = x.dequantized();
            for (; r0 + 4 <= rowTo; r0 += 4) {
                for (int k = 0; k < 4; k++) {
                    decodeDequantized(r0 + k, b[4 + k], b);
                }
                int t = 0;
                for (; t + 4 <= n; t += 4) {
                    tile4x4(b, xdq, t, r0, out, outStride);
                }
                for (; t < n; t++) {
                    for (int k = 0; k < 4; k++) {
                        out[t * outStride + r0 + k] = dequantizedDot(b[4 + k], xdq, t * cols, b[3]);
                    }
                }
            }
        }
        for (int r = r0; r < rowTo; r++) {
            int t = 0;
            if (type == GgmlType.Q8_0) {
                float[] q = b[0];
                decodeDequantized(r, q, b);
                float[] xdq = x.dequantized();
                for (; t + 4 <= n; t += 4) {
                    dequantizedDot4(q, xdq, t, out, outStride, r, b[3]);
                }
                for (; t < n; t++) {
                    out[t * outStride + r] = dequantizedDot(q, xdq, t * cols, b[3]);
                }
                continue;
            }
            decodeRow(r, b[0], b[1], b[2]);
            for (; t + 4 <= n; t += 4) {
                dotDecoded4(b, x, t, out, outStride, r);
            }
            for (; t < n; t++) {
                out[t * outStride + r] = dotDecoded(b, x, t);
            }
        }
    }

    /** Q8_0 row r as dequantized floats in q: (q * s) is the same float every token's product would compute. */
    private void decodeDequantized(int r, float[] q, float[][] b) {
        decodeRow(r, q, b[1], b[2]);
        for (int i = 0; i < cols; i++) {
            q[i] *= b[1][i / 32];
        }
    }

    /** 4 rows (b[4..7], dequantized) x tokens t..t+3; per (row, token) the same lane-wise FMA order as below. */
    private void tile4x4(float[][] b, float[] x, int t, int r, float[] out, int outStride) {
        float[] w0 = b[4], w1 = b[5], w2 = b[6], w3 = b[7];
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int o0 = t * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
        for (int i = 0; i < cols; i += L) {
            FloatVector x0 = FloatVector.fromArray(F, x, o0 + i);
            FloatVector x1 = FloatVector.fromArray(F, x, o1 + i);
            FloatVector x2 = FloatVector.fromArray(F, x, o2 + i);
            FloatVector x3 = FloatVector.fromArray(F, x, o3 + i);
            FloatVector v = FloatVector.fromArray(F, w0, i);
            a00 = v.fma(x0, a00); a01 = v.fma(x1, a01); a02 = v.fma(x2, a02); a03 = v.fma(x3, a03);
            v = FloatVector.fromArray(F, w1, i);
            a10 = v.fma(x0, a10); a11 = v.fma(x1, a11); a12 = v.fma(x2, a12); a13 = v.fma(x3, a13);
            v = FloatVector.fromArray(F, w2, i);
            a20 = v.fma(x0, a20); a21 = v.fma(x1, a21); a22 = v.fma(x2, a22); a23 = v.fma(x3, a23);
            v = FloatVector.fromArray(F, w3, i);
            a30 = v.fma(x0, a30); a31 = v.fma(x1, a31); a32 = v.fma(x2, a32); a33 = v.fma(x3, a33);
        }
        float[] lanes = b[3];
        int c0 = t * outStride + r, c1 = c0 + outStride, c2 = c1 + outStride, c3 = c2 + outStride;
        out[c0] = Kernels.sumLanes(a00, lanes); out[c1] = Kernels.sumLanes(a01, lanes);
        out[c2] = Kernels.sumLanes(a02, lanes); out[c3] = Kernels.sumLanes(a03, lanes);
        out[c0 + 1] = Kernels.sumLanes(a10, lanes); out[c1 + 1] = Kernels.sumLanes(a11, lanes);
        out[c2 + 1] = Kernels.sumLanes(a12, lanes); out[c3 + 1] = Kernels.sumLanes(a13, lanes);
        out[c0 + 2] = Kernels.sumLanes(a20, lanes); out[c1 + 2] = Kernels.sumLanes(a21, lanes);
        out[c2 + 2] = Kernels.sumLanes(a22, lanes); out[c3 + 2] = Kernels.sumLanes(a23, lanes);
        out[c0 + 3] = Kernels.sumLanes(a30, lanes); out[c1 + 3] = Kernels.sumLanes(a31, lanes);
        out[c2 + 3] = Kernels.sumLanes(a32, lanes); out[c3 + 3] = Kernels.sumLanes(a33, lanes);
    }

    /** Q8_0 batch: sum over i of w[i] * x[i], lane-wise FMA in element order, then the fixed lane sum. */
    private float dequantizedDot(float[] w, float[] x, int xo, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < cols; i += L) {
            acc = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        return Kernels.sumLanes(acc, lanes);
    }

    /** Four tokens at once: each weight vector is loaded once for four FMAs (same per-token order as above). */
    private void dequantizedDot4(float[] w, float[] x, int t, float[] out, int outStride, int r, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int o0 = t * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
        for (int i = 0; i < cols; i += L) {
            FloatVector wv = FloatVector.fromArray(F, w, i);
            a0 = wv.fma(FloatVector.fromArray(F, x, o0 + i), a0);
            a1 = wv.fma(FloatVector.fromArray(F, x, o1 + i), a1);
            a2 = wv.fma(FloatVector.fromArray(F, x, o2 + i), a2);
            a3 = wv.fma(FloatVector.fromArray(F, x, o3 + i), a3);
        }
        out[t * outStride + r] = Kernels.sumLanes(a0, lanes);
        out[(t + 1) * outStride + r] = Kernels.sumLanes(a1, lanes);
        out[(t + 2) * outStride + r] = Kernels.sumLanes(a2, lanes);
        out[(t + 3) * outStride + r] = Kernels.sumLanes(a3, lanes);
    }

    /**
     * {@link #dotDecoded} for tokens t..t+3 of a decoded row (not Q8_0): each integer vector of the row is loaded
     * once for four tokens. Per token, the same operations in the same order, so results equal the one-token path.
     */
    private void dotDecoded4(float[][] b, Activations x, int t, float[] out, int outStride, int r) {
        float[] q = b[0];
        float[] scale = b[1];
        float[] xq = x.f;
        float[] xd = x.d;
        int perToken = cols / 32;
        int xo0 = t * cols, xo1 = xo0 + cols, xo2 = xo1 + cols, xo3 = xo2 + cols;
        int go0 = t * perToken, go1 = go0 + perToken, go2 = go1 + perToken, go3 = go2 + perToken;
        int groups = cols / group;
        int shift = group == 32 ? 0 : 1;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int g = 0; g < groups; g++) {
            int base = g * group;
            FloatVector p0 = FloatVector.zero(F), p1 = p0, p2 = p0, p3 = p0;
            for (int i = 0; i < group; i += L) {
                FloatVector qv = FloatVector.fromArray(F, q, base + i);
                p0 = qv.fma(FloatVector.fromArray(F, xq, xo0 + base + i), p0);
                p1 = qv.fma(FloatVector.fromArray(F, xq, xo1 + base + i), p1);
                p2 = qv.fma(FloatVector.fromArray(F, xq, xo2 + base + i), p2);
                p3 = qv.fma(FloatVector.fromArray(F, xq, xo3 + base + i), p3);
            }
            float s = scale[g];
            int gd = g >> shift;
            a0 = p0.fma(FloatVector.broadcast(F, s * xd[go0 + gd]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, s * xd[go1 + gd]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, s * xd[go2 + gd]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, s * xd[go3 + gd]), a3);
        }
        float[] lanes = b[3];
        out[t * outStride + r] = withMins(Kernels.sumLanes(a0, lanes), b, x, t);
        out[(t + 1) * outStride + r] = withMins(Kernels.sumLanes(a1, lanes), b, x, t + 1);
        out[(t + 2) * outStride + r] = withMins(Kernels.sumLanes(a2, lanes), b, x, t + 2);
        out[(t + 3) * outStride + r] = withMins(Kernels.sumLanes(a3, lanes), b, x, t + 3);
    }

    /** Adds the block minimums' term {@code sum over groups of min * xsum} for token t, where the type has minimums. */
    private float withMins(float sum, float[][] b, Activations x, int t) {
        if (!hasMin) {
            return sum;
        }
        float[] min = b[2];
        float[] xs = x.xsum;
        int go = t * (cols / 32);
        float m = 0f;
        for (int g = 0; g < cols / group; g++) {
            m += min[g] * xs[go + g];
        }
        return sum + m;
    }

    private float dotDecoded(float[][] b, Activations x, int t) {
        float[] q = b[0];
        float[] scale = b[1];
        float[] xq = x.f;
        float[] xd = x.d;
        int xo = t * cols;
        int go = t * (cols / 32);
        FloatVector acc = FloatVector.zero(F);
        int groups = cols / group;
        int perD = 32 / group; // groups per activation scale
        if (type == GgmlType.Q8_0) {
            // llama.cpp's Q8_0 products come out as products of dequantized values, not scaled integer sums
            for (int g = 0; g < groups; g++) {
                int base = g * group;
                FloatVector sv = FloatVector.broadcast(F, scale[g]);
                FloatVector dv = FloatVector.broadcast(F, xd[go + g / perD]);
                for (int i = 0; i < group; i += L) {
                    acc = FloatVector.fromArray(F, q, base + i).mul(sv)
                            .fma(FloatVector.fromArray(F, xq, xo + base + i).mul(dv), acc);
                }
            }
            return Kernels.sumLanes(acc, b[3]);
        }
        int shift = perD == 1 ? 0 : 1; // groups of 32 or 16 values: a shift, not a division in the inner loop
        for (int g = 0; g < groups; g++) {
            int base = g * group;
            FloatVector p = FloatVector.zero(F);
            for (int i = 0; i < group; i += L) {
                p = FloatVector.fromArray(F, q, base + i).fma(FloatVector.fromArray(F, xq, xo + base + i), p);
            }
            acc = p.fma(FloatVector.broadcast(F, scale[g] * xd[go + (g >> shift)]), acc);
        }
        return withMins(Kernels.sumLanes(acc, b[3]), b, x, t);
    }
}
