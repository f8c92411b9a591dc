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
 * every token of a batch. Q8_0 overrides the products with kernels of its own ({@code LegacyQuants.Q8_0}).
 */
abstract class QuantizedMatrix extends WeightMatrix {
    /** Values per scale: 32, or 16 for Q6_K. */
    protected final int group;
    private final boolean hasMin;
    private final ThreadLocal<float[][]> decoded;
    /**
     * Per thread, shared by every matrix of these types (sized for the widest row seen): a second decoded row, for
     * batches (two rows at a time).
     */
    private static final ThreadLocal<float[][]> SECOND = ThreadLocal.withInitial(() -> new float[][] {new float[0]});
    /** Batches up to this size run the fused kernel per token (measured: from 4 tokens on, the tiles win). */
    static final int SMALL_BATCH = 3;
    /** Batches run in token chunks whose activations take about this many bytes (they stay in a 1 MiB L2). */
    static final int CHUNK_BYTES = 512 * 1024;

    QuantizedMatrix(GgmlType type, MemorySegment data, int rows, int cols, int group, boolean hasMin) {
        super(type, data, rows, cols);
        this.group = group;
        this.hasMin = hasMin;
        this.decoded = ThreadLocal.withInitial(() -> new float[][] {
                new float[cols], new float[cols / group], new float[hasMin ? cols / group : 0], new float[L],
                new float[2 * L * L], new float[L]});
    }

    /** This thread's second row buffers, for rows of at least {@code cols} values in groups of {@code group}. */
    private static float[][] second(int cols, int group) {
        float[][] b = SECOND.get();
        if (b[0].length < cols || b[1].length < cols / group) {
            int groups = Math.max(cols / group, b.length > 1 ? b[1].length : 0);
            b = new float[][] {new float[cols], new float[groups], new float[groups], new float[L]};
            SECOND.set(b);
        }
        return b;
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

    @Override
    public void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        int n = x.tokens();
        float[][] b = decoded.get();
        // token chunks whose activations stay in L2 while every row passes over them (a whole prompt's did not fit:
        // each row streamed them from L3 again); a row is decoded again for each chunk, which costs far less
        int chunk = Math.max(L, CHUNK_BYTES / (4 * cols) / L * L);
        float[] acc = b[4];
        float[] sums = b[5];
        float[][] b2 = second(cols, group);
        for (int t0 = 0; t0 < n; t0 += chunk) {
            int t1 = Math.min(n, t0 + chunk);
            int r = rowFrom;
            for (; r + 2 <= rowTo; r += 2) {
                // two rows at a time: each activation vector loaded once for both
                decodeRow(r, b[0], b[1], b[2]);
                decodeRow(r + 1, b2[0], b2[1], b2[2]);
                int t = t0;
                for (; t + L <= t1; t += L) {
                    // L tokens' accumulators, then their lane sums side by side (one token's own lane sum is a
                    // chain of L dependent adds after a store: it took more samples than the products)
                    for (int k = 0; k < L; k += 4) {
                        accumulators2x4(b, b2, x, t + k, acc, k * L);
                    }
                    Kernels.sumLanesOfRows(acc, sums, 0);
                    for (int k = 0; k < L; k++) {
                        out[(t + k) * outStride + r] = withMins(sums[k], b, x, t + k);
                    }
                    Kernels.sumLanesOfRows(acc, sums, 0, L * L);
                    for (int k = 0; k < L; k++) {
                        out[(t + k) * outStride + r + 1] = withMins(sums[k], b2, x, t + k);
                    }
                }
                for (; t < t1; t++) {
                    out[t * outStride + r] = dotDecoded(b, x, t);
                    out[t * outStride + r + 1] = dotDecoded(b2, x, t);
                }
            }
            if (r < rowTo) {
                decodeRow(r, b[0], b[1], b[2]);
                for (int t = t0; t < t1; t++) {
                    out[t * outStride + r] = dotDecoded(b, x, t);
                }
            }
        }
    }

    /**
     * {@link #dotDecoded}'s accumulators for tokens t..t+3 of two decoded rows, to {@code acc[o + k L ..)} for row
     * {@code b}, token t + k, and {@code acc[L L + o + k L ..)} for row {@code c}: each activation vector is loaded
     * once for both rows and each row vector once for four tokens. Per row and token, the same operations in the
     * same order, so results equal the one-token path. Written out: C2 must keep every vector in a register.
     */
    private void accumulators2x4(float[][] b, float[][] c, Activations x, int t, float[] acc, int o) {
        float[] q = b[0], scale = b[1];
        float[] r = c[0], rscale = c[1];
        float[] xq = x.f;
        float[] xd = x.d;
        int perToken = cols / 32;
        int xo0 = t * cols, xo1 = xo0 + cols, xo2 = xo1 + cols, xo3 = xo2 + cols;
        int go0 = t * perToken, go1 = go0 + perToken, go2 = go1 + perToken, go3 = go2 + perToken;
        int groups = cols / group;
        int shift = group == 32 ? 0 : 1;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, c0 = z, c1 = z, c2 = z, c3 = z;
        for (int g = 0; g < groups; g++) {
            int base = g * group;
            FloatVector p0 = z, p1 = z, p2 = z, p3 = z, s0 = z, s1 = z, s2 = z, s3 = z;
            for (int i = 0; i < group; i += L) {
                FloatVector qv = FloatVector.fromArray(F, q, base + i);
                FloatVector rv = FloatVector.fromArray(F, r, base + i);
                FloatVector x0 = FloatVector.fromArray(F, xq, xo0 + base + i);
                FloatVector x1 = FloatVector.fromArray(F, xq, xo1 + base + i);
                FloatVector x2 = FloatVector.fromArray(F, xq, xo2 + base + i);
                FloatVector x3 = FloatVector.fromArray(F, xq, xo3 + base + i);
                p0 = qv.fma(x0, p0);
                p1 = qv.fma(x1, p1);
                p2 = qv.fma(x2, p2);
                p3 = qv.fma(x3, p3);
                s0 = rv.fma(x0, s0);
                s1 = rv.fma(x1, s1);
                s2 = rv.fma(x2, s2);
                s3 = rv.fma(x3, s3);
            }
            int gd = g >> shift;
            float d0 = xd[go0 + gd], d1 = xd[go1 + gd], d2 = xd[go2 + gd], d3 = xd[go3 + gd];
            float sq = scale[g], sr = rscale[g];
            a0 = p0.fma(FloatVector.broadcast(F, sq * d0), a0);
            a1 = p1.fma(FloatVector.broadcast(F, sq * d1), a1);
            a2 = p2.fma(FloatVector.broadcast(F, sq * d2), a2);
            a3 = p3.fma(FloatVector.broadcast(F, sq * d3), a3);
            c0 = s0.fma(FloatVector.broadcast(F, sr * d0), c0);
            c1 = s1.fma(FloatVector.broadcast(F, sr * d1), c1);
            c2 = s2.fma(FloatVector.broadcast(F, sr * d2), c2);
            c3 = s3.fma(FloatVector.broadcast(F, sr * d3), c3);
        }
        a0.intoArray(acc, o);
        a1.intoArray(acc, o + L);
        a2.intoArray(acc, o + 2 * L);
        a3.intoArray(acc, o + 3 * L);
        int oc = o + L * L;
        c0.intoArray(acc, oc);
        c1.intoArray(acc, oc + L);
        c2.intoArray(acc, oc + 2 * L);
        c3.intoArray(acc, oc + 3 * L);
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
