package dev.flint.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * Q4_0: fp16 d, 16 bytes of nibbles (byte j: element j low, element j + 16 high); value = d * (nibble - 8).
 *
 * <p>The products follow what llama.cpp's x86 build runs for Q4_0: it repacks these weights at load into interleaved
 * blocks of eight rows (ggml-cpu-aarch64.cpp, q4_0_8x8) and multiplies them with its gemv (1-3 tokens, and the last
 * n % 4 tokens of a batch) and gemm kernels. Both compute, per row and token, the block's integer dot product and
 * then one float chain over the blocks in order: {@code acc = fma((float) isum_b, d_w,b * d_x,b, acc)}, from 0. So
 * there is no lane sum over the row, and every batch size gives the same result. Flint computes the same chain: row
 * by row for up to three tokens, and with the tokens in the vector lanes (one row, 16 tokens) for larger batches.
 *
 * <p>Integer sums are formed in float (exact: at most 32 * 15 * 127 in magnitude) as {@code sum(nibble * q_x)}; the
 * bias of 8 comes off with the activations' block sum: {@code isum = sum(nibble * q_x) - 8 * sum(q_x)}.
 */
final class Q4_0Matrix extends QuantizedMatrix {
    /**
     * Batches of at least this many tokens put the tokens in the vector lanes; smaller ones run row by row, per
     * token (measured: from four tokens on, one pass with the lanes partly empty costs no more).
     */
    static final int LANE_BATCH = 4;

    Q4_0Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_0, data, rows, cols, 32, false);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_0;
    }

    @Override
    protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
        long base = row * rowBytes;
        for (int b = 0; b < cols / 32; b++) {
            long p = base + b * 18L;
            scale[b] = Kernels.f16(data, p);
            LegacyQuants.nibbles(data, p + 2, q, 32 * b, (byte) 8);
        }
    }

    @Override
    public float dot(int row, Activations x, int token) {
        return rowDot(row, x, token);
    }

    @Override
    public void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        int n = x.tokens();
        if (n >= LANE_BATCH && x.hasLanes()) {
            tokensInLanes(x, out, outStride, rowFrom, rowTo);
            return;
        }
        for (int r = rowFrom; r < rowTo; r++) {
            for (int t = 0; t < n; t++) { // the row stays in the cache from one token to the next
                out[t * outStride + r] = rowDot(r, x, t);
            }
        }
    }

    /**
     * One row and token: the block chain, each block's integer sum formed lane-wise in a vector (products and sums of
     * small integers, exact in float) and then summed over the lanes (exact too, in any order).
     */
    private float rowDot(int row, Activations x, int t) {
        long base = row * rowBytes;
        int nb = cols / 32;
        int xo = t * cols;
        int go = t * nb;
        float[] xf = x.f;
        float[] xd = x.d;
        float[] xs = x.xsum;
        float acc = 0f;
        for (int b = 0; b < nb; b++) {
            long p = base + b * 18L;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                IntVector v = nibbleBytes(p + 2 + j);
                s = lowNibbles(v).fma(FloatVector.fromArray(F, xf, xo + 32 * b + j), s);
                s = highNibbles(v).fma(FloatVector.fromArray(F, xf, xo + 32 * b + 16 + j), s);
            }
            float isum = s.reduceLanes(VectorOperators.ADD) - 8f * xs[go + b];
            acc = Math.fma(isum, Kernels.f16(data, p) * xd[go + b], acc);
        }
        return acc;
    }

    /** L bytes of nibbles, zero-extended to ints. */
    private IntVector nibbleBytes(long p) {
        return (IntVector) ByteVector.fromMemorySegment(Kernels.B, data, p, Kernels.LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, Kernels.I, 0);
    }

    private static FloatVector lowNibbles(IntVector v) {
        return (FloatVector) v.and(0xF).convert(VectorOperators.I2F, 0);
    }

    private static FloatVector highNibbles(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
    }

    // ---- batches: tokens in the lanes ----------------------------------------------------------------------------

    /**
     * Rows decoded once (nibbles as floats, scales), then per group of L tokens the block chain with the tokens in
     * the lanes, four rows at a time; activations come from {@link Activations#lanes}.
     */
    private void tokensInLanes(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        Scratch s = SCRATCH.get();
        s.ensure(cols);
        int n = x.tokens();
        int groups = (n + L - 1) / L;
        int r = rowFrom;
        for (; r + 4 <= rowTo; r += 4) {
            for (int k = 0; k < 4; k++) {
                decodeUnbiased(r + k, s.q[k], s.d[k]);
            }
            int g = 0;
            for (; g + 2 <= groups; g += 2) {
                rows4x2(s, x, g, out, outStride, r, n);
            }
            if (g < groups) {
                rows4(s, x, g, out, outStride, r, n);
            }
        }
        for (; r < rowTo; r++) {
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = rowDot(r, x, t);
            }
        }
    }

    /** Row r's nibbles (0..15, not yet minus 8) as floats and its block scales. */
    private void decodeUnbiased(int row, float[] q, float[] d) {
        long base = row * rowBytes;
        for (int b = 0; b < cols / 32; b++) {
            long p = base + b * 18L;
            d[b] = Kernels.f16(data, p);
            for (int j = 0; j < 16; j += L) {
                IntVector v = nibbleBytes(p + 2 + j);
                lowNibbles(v).intoArray(q, 32 * b + j);
                highNibbles(v).intoArray(q, 32 * b + 16 + j);
            }
        }
    }

    private void rows4(Scratch s, Activations x, int g, float[] out, int outStride, int r, int n) {
        float[] q0 = s.q[0], q1 = s.q[1], q2 = s.q[2], q3 = s.q[3];
        float[] d0 = s.d[0], d1 = s.d[1], d2 = s.d[2], d3 = s.d[3];
        float[] xl = x.lanes;
        float[] dl = x.laneScales;
        float[] sl = x.laneSums;
        int nb = cols / 32;
        int xo = g * cols * L;
        int bo = g * nb * L;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
        for (int b = 0; b < nb; b++) {
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            int e0 = 32 * b;
            for (int e = e0; e < e0 + 32; e++) {
                FloatVector xv = FloatVector.fromArray(F, xl, xo + e * L);
                s0 = xv.fma(FloatVector.broadcast(F, q0[e]), s0);
                s1 = xv.fma(FloatVector.broadcast(F, q1[e]), s1);
                s2 = xv.fma(FloatVector.broadcast(F, q2[e]), s2);
                s3 = xv.fma(FloatVector.broadcast(F, q3[e]), s3);
            }
            FloatVector bias = FloatVector.fromArray(F, sl, bo + b * L);
            FloatVector dx = FloatVector.fromArray(F, dl, bo + b * L);
            a0 = s0.sub(bias).fma(dx.mul(d0[b]), a0);
            a1 = s1.sub(bias).fma(dx.mul(d1[b]), a1);
            a2 = s2.sub(bias).fma(dx.mul(d2[b]), a2);
            a3 = s3.sub(bias).fma(dx.mul(d3[b]), a3);
        }
        float[] tmp = s.lanes;
        a0.intoArray(tmp, 0);
        a1.intoArray(tmp, L);
        a2.intoArray(tmp, 2 * L);
        a3.intoArray(tmp, 3 * L);
        scatter(tmp, g, out, outStride, r, n);
    }

    /**
     * {@link #rows4} for token groups g and g + 1 at once: each broadcast weight feeds two FMAs (same operations per
     * token).
     */
    private void rows4x2(Scratch s, Activations x, int g, float[] out, int outStride, int r, int n) {
        float[] q0 = s.q[0], q1 = s.q[1], q2 = s.q[2], q3 = s.q[3];
        float[] d0 = s.d[0], d1 = s.d[1], d2 = s.d[2], d3 = s.d[3];
        float[] xl = x.lanes;
        float[] dl = x.laneScales;
        float[] sl = x.laneSums;
        int nb = cols / 32;
        int xo = g * cols * L;
        int xo2 = xo + cols * L;
        int bo = g * nb * L;
        int bo2 = bo + nb * L;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, c0 = z, c1 = z, c2 = z, c3 = z;
        for (int b = 0; b < nb; b++) {
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z, t0 = z, t1 = z, t2 = z, t3 = z;
            int e0 = 32 * b;
            for (int e = e0; e < e0 + 32; e++) {
                FloatVector xv = FloatVector.fromArray(F, xl, xo + e * L);
                FloatVector yv = FloatVector.fromArray(F, xl, xo2 + e * L);
                FloatVector w = FloatVector.broadcast(F, q0[e]);
                s0 = xv.fma(w, s0);
                t0 = yv.fma(w, t0);
                w = FloatVector.broadcast(F, q1[e]);
                s1 = xv.fma(w, s1);
                t1 = yv.fma(w, t1);
                w = FloatVector.broadcast(F, q2[e]);
                s2 = xv.fma(w, s2);
                t2 = yv.fma(w, t2);
                w = FloatVector.broadcast(F, q3[e]);
                s3 = xv.fma(w, s3);
                t3 = yv.fma(w, t3);
            }
            FloatVector bias = FloatVector.fromArray(F, sl, bo + b * L);
            FloatVector dx = FloatVector.fromArray(F, dl, bo + b * L);
            a0 = s0.sub(bias).fma(dx.mul(d0[b]), a0);
            a1 = s1.sub(bias).fma(dx.mul(d1[b]), a1);
            a2 = s2.sub(bias).fma(dx.mul(d2[b]), a2);
            a3 = s3.sub(bias).fma(dx.mul(d3[b]), a3);
            FloatVector bias2 = FloatVector.fromArray(F, sl, bo2 + b * L);
            FloatVector dx2 = FloatVector.fromArray(F, dl, bo2 + b * L);
            c0 = t0.sub(bias2).fma(dx2.mul(d0[b]), c0);
            c1 = t1.sub(bias2).fma(dx2.mul(d1[b]), c1);
            c2 = t2.sub(bias2).fma(dx2.mul(d2[b]), c2);
            c3 = t3.sub(bias2).fma(dx2.mul(d3[b]), c3);
        }
        float[] tmp = s.lanes; // vectors go through an array: as arguments of a call the JIT may not inline, they would be boxed
        a0.intoArray(tmp, 0);
        a1.intoArray(tmp, L);
        a2.intoArray(tmp, 2 * L);
        a3.intoArray(tmp, 3 * L);
        scatter(tmp, g, out, outStride, r, n);
        c0.intoArray(tmp, 0);
        c1.intoArray(tmp, L);
        c2.intoArray(tmp, 2 * L);
        c3.intoArray(tmp, 3 * L);
        scatter(tmp, g + 1, out, outStride, r, n);
    }

    /** tmp[k * L + i] is row r + k's value for token g * L + i: to the tokens' output rows. */
    private static void scatter(float[] tmp, int g, float[] out, int outStride, int r, int n) {
        int tokens = Math.min(L, n - g * L);
        int t0 = g * L;
        for (int i = 0; i < tokens; i++) {
            int o = (t0 + i) * outStride + r;
            out[o] = tmp[i];
            out[o + 1] = tmp[L + i];
            out[o + 2] = tmp[2 * L + i];
            out[o + 3] = tmp[3 * L + i];
        }
    }

    /** Per-thread buffers, shared by all Q4_0 matrices (sized for the widest). */
    private static final class Scratch {
        final float[] lanes = new float[4 * L];
        float[][] q = new float[4][0];
        float[][] d = new float[4][0];

        void ensure(int cols) {
            if (q[0].length < cols) {
                for (int k = 0; k < 4; k++) {
                    q[k] = new float[cols];
                    d[k] = new float[cols / 32];
                }
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
}
