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
 * there is no lane sum over the row, and every batch size gives the same result.
 *
 * <p>Flint repacks too, for the same reason: a chain per row has nothing to spread over vector lanes within a row, so
 * the lanes hold rows ({@link RowGroups}): one load gives element j (low nibbles) and j + 16 (high) of L rows,
 * multiplied by one broadcast activation. One token costs about a third of
 * the instructions of the row-by-row form, which was compute bound. Batches of {@link #LANE_BATCH}+ tokens decode a
 * group to floats once and put the tokens in the lanes instead. Rows outside whole groups (and matrices whose scales
 * include infinities or NaNs, which the vector scale conversion does not handle) run row by row from the mapped
 * bytes, with the same operations.
 *
 * <p>Integer sums are formed in float (exact: at most 32 * 15 * 127 in magnitude) as {@code sum(nibble * q_x)}; the
 * bias of 8 comes off with the activations' block sum: {@code isum = sum(nibble * q_x) - 8 * sum(q_x)}.
 */
final class Q4_0Matrix extends QuantizedMatrix {
    /**
     * Batches of at least this many tokens put the tokens in the vector lanes; smaller ones run with the rows in the
     * lanes, per token (measured: from four tokens on, one pass with the lanes partly empty costs no more).
     */
    static final int LANE_BATCH = 4;
    /** Bytes of one block of a repacked group: L fp16 scales, then 16 bytes of nibbles per row. */
    private static final long GROUP_BLOCK_BYTES = RowGroups.blockBytes(16);

    private final int blocks;
    /** Rows [0, groups * L) repacked in groups of L rows ({@link RowGroups}), or null when not repacked. */
    private final MemorySegment packed;
    private final int groups;

    Q4_0Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_0, data, rows, cols, 32, false);
        this.blocks = cols / 32;
        this.packed = RowGroups.interleave(data, rows, blocks, 16);
        this.groups = RowGroups.groups(packed, rows);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_0;
    }

    @Override
    protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
        long base = row * rowBytes;
        for (int b = 0; b < blocks; b++) {
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
        // whole repacked groups inside the range; rows before and after them run row by row
        int g0 = Math.min(groups, (rowFrom + L - 1) / L);
        int g1 = Math.max(g0, Math.min(groups, rowTo / L));
        boolean lanes = n >= LANE_BATCH && x.hasLanes();
        rowByRow(x, out, outStride, rowFrom, Math.min(rowTo, g0 * L));
        if (lanes) {
            Scratch s = SCRATCH.get();
            s.ensure(cols);
            for (int g = g0; g < g1; g++) {
                tokensInLanes(s, g, x, out, outStride);
            }
        } else {
            for (int g = g0; g < g1; g++) {
                for (int t = 0; t < n; t++) { // the group stays in the cache from one token to the next
                    groupDot(g, x, t, out, t * outStride + g * L);
                }
            }
        }
        rowByRow(x, out, outStride, Math.max(rowFrom, g1 * L), rowTo);
    }

    private void rowByRow(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        for (int r = rowFrom; r < rowTo; r++) {
            for (int t = 0; t < x.tokens(); t++) { // the row stays in the cache from one token to the next
                out[t * outStride + r] = rowDot(r, x, t);
            }
        }
    }

    // ---- one token, rows in the lanes ----------------------------------------------------------------------------

    /**
     * Group g's L rows times token t into {@code out[o .. o + L)}: per block, L integer sums at once (four partial
     * sums, exact), then the chain step for every row.
     */
    private void groupDot(int g, Activations x, int t, float[] out, int o) {
        float[] xf = x.f;
        float[] xd = x.d;
        float[] xs = x.xsum;
        int xo = t * cols;
        int go = t * blocks;
        long base = (long) g * blocks * GROUP_BLOCK_BYTES;
        FloatVector z = FloatVector.zero(F);
        FloatVector acc = z;
        for (int b = 0; b < blocks; b++) {
            long p = base + b * GROUP_BLOCK_BYTES;
            long q = p + 2L * L;
            int xb = xo + 32 * b;
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (int j = 0; j < 16; j += 2) {
                IntVector v = packedBytes(q + (long) j * L);
                IntVector w = packedBytes(q + (long) (j + 1) * L);
                s0 = lowNibbles(v).fma(FloatVector.broadcast(F, xf[xb + j]), s0);
                s1 = highNibbles(v).fma(FloatVector.broadcast(F, xf[xb + 16 + j]), s1);
                s2 = lowNibbles(w).fma(FloatVector.broadcast(F, xf[xb + j + 1]), s2);
                s3 = highNibbles(w).fma(FloatVector.broadcast(F, xf[xb + 17 + j]), s3);
            }
            FloatVector isum = s0.add(s1).add(s2.add(s3)).sub(8f * xs[go + b]);
            acc = isum.fma(RowGroups.scales(packed, p).mul(xd[go + b]), acc);
        }
        acc.intoArray(out, o);
    }

    /** L packed bytes (one per row), zero-extended to ints. */
    private IntVector packedBytes(long p) {
        return (IntVector) ByteVector.fromMemorySegment(Kernels.B, packed, p, Kernels.LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, Kernels.I, 0);
    }

    /**
     * One row and token from the mapped bytes: the block chain, each block's integer sum formed lane-wise in a vector
     * (products and sums of small integers, exact in float) and then summed over the lanes (exact too, in any order).
     */
    private float rowDot(int row, Activations x, int t) {
        long base = row * rowBytes;
        int xo = t * cols;
        int go = t * blocks;
        float[] xf = x.f;
        float[] xd = x.d;
        float[] xs = x.xsum;
        float acc = 0f;
        for (int b = 0; b < blocks; b++) {
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

    /** L bytes of nibbles from the mapped row, zero-extended to ints. */
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
     * Group g decoded once (nibbles as floats, scales), then for each four of its rows and each group of L tokens the
     * block chain with the tokens in the lanes; activations come from {@link Activations#lanes}.
     */
    private void tokensInLanes(Scratch s, int g, Activations x, float[] out, int outStride) {
        decodeGroup(g, s.q, s.d);
        int n = x.tokens();
        int tokenGroups = (n + L - 1) / L;
        for (int k = 0; k < L; k += 4) {
            int r = g * L + k;
            int tg = 0;
            for (; tg + 2 <= tokenGroups; tg += 2) {
                rows4x2(s, k, x, tg, out, outStride, r, n);
            }
            if (tg < tokenGroups) {
                rows4(s, k, x, tg, out, outStride, r, n);
            }
        }
    }

    /**
     * Group g's nibbles (0..15, not yet minus 8) as floats, element-major: {@code q[e * L + k]} is element e of row
     * g * L + k; {@code d[b * L + k]} its block scales.
     */
    private void decodeGroup(int g, float[] q, float[] d) {
        long base = (long) g * blocks * GROUP_BLOCK_BYTES;
        for (int b = 0; b < blocks; b++) {
            long p = base + b * GROUP_BLOCK_BYTES;
            RowGroups.scales(packed, p).intoArray(d, b * L);
            for (int j = 0; j < 16; j++) {
                IntVector v = packedBytes(p + 2L * L + (long) j * L);
                lowNibbles(v).intoArray(q, (32 * b + j) * L);
                highNibbles(v).intoArray(q, (32 * b + 16 + j) * L);
            }
        }
    }

    /** Rows r..r+3 (group rows k..k+3) times token group tg. */
    private void rows4(Scratch s, int k, Activations x, int tg, float[] out, int outStride, int r, int n) {
        float[] q = s.q;
        float[] d = s.d;
        float[] xl = x.lanes;
        float[] dl = x.laneScales;
        float[] sl = x.laneSums;
        int xo = tg * cols * L;
        int bo = tg * blocks * L;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
        for (int b = 0; b < blocks; b++) {
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            int e0 = 32 * b;
            for (int e = e0; e < e0 + 32; e++) {
                FloatVector xv = FloatVector.fromArray(F, xl, xo + e * L);
                int qe = e * L + k;
                s0 = xv.fma(FloatVector.broadcast(F, q[qe]), s0);
                s1 = xv.fma(FloatVector.broadcast(F, q[qe + 1]), s1);
                s2 = xv.fma(FloatVector.broadcast(F, q[qe + 2]), s2);
                s3 = xv.fma(FloatVector.broadcast(F, q[qe + 3]), s3);
            }
            FloatVector bias = FloatVector.fromArray(F, sl, bo + b * L);
            FloatVector dx = FloatVector.fromArray(F, dl, bo + b * L);
            int db = b * L + k;
            a0 = s0.sub(bias).fma(dx.mul(d[db]), a0);
            a1 = s1.sub(bias).fma(dx.mul(d[db + 1]), a1);
            a2 = s2.sub(bias).fma(dx.mul(d[db + 2]), a2);
            a3 = s3.sub(bias).fma(dx.mul(d[db + 3]), a3);
        }
        float[] tmp = s.lanes;
        a0.intoArray(tmp, 0);
        a1.intoArray(tmp, L);
        a2.intoArray(tmp, 2 * L);
        a3.intoArray(tmp, 3 * L);
        scatter(tmp, tg, out, outStride, r, n);
    }

    /**
     * {@link #rows4} for token groups tg and tg + 1 at once: each broadcast weight feeds two FMAs (same operations per
     * token).
     */
    private void rows4x2(Scratch s, int k, Activations x, int tg, float[] out, int outStride, int r, int n) {
        float[] q = s.q;
        float[] d = s.d;
        float[] xl = x.lanes;
        float[] dl = x.laneScales;
        float[] sl = x.laneSums;
        int xo = tg * cols * L;
        int xo2 = xo + cols * L;
        int bo = tg * blocks * L;
        int bo2 = bo + blocks * L;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, c0 = z, c1 = z, c2 = z, c3 = z;
        for (int b = 0; b < blocks; b++) {
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z, t0 = z, t1 = z, t2 = z, t3 = z;
            int e0 = 32 * b;
            for (int e = e0; e < e0 + 32; e++) {
                FloatVector xv = FloatVector.fromArray(F, xl, xo + e * L);
                FloatVector yv = FloatVector.fromArray(F, xl, xo2 + e * L);
                int qe = e * L + k;
                FloatVector w = FloatVector.broadcast(F, q[qe]);
                s0 = xv.fma(w, s0);
                t0 = yv.fma(w, t0);
                w = FloatVector.broadcast(F, q[qe + 1]);
                s1 = xv.fma(w, s1);
                t1 = yv.fma(w, t1);
                w = FloatVector.broadcast(F, q[qe + 2]);
                s2 = xv.fma(w, s2);
                t2 = yv.fma(w, t2);
                w = FloatVector.broadcast(F, q[qe + 3]);
                s3 = xv.fma(w, s3);
                t3 = yv.fma(w, t3);
            }
            FloatVector bias = FloatVector.fromArray(F, sl, bo + b * L);
            FloatVector dx = FloatVector.fromArray(F, dl, bo + b * L);
            int db = b * L + k;
            a0 = s0.sub(bias).fma(dx.mul(d[db]), a0);
            a1 = s1.sub(bias).fma(dx.mul(d[db + 1]), a1);
            a2 = s2.sub(bias).fma(dx.mul(d[db + 2]), a2);
            a3 = s3.sub(bias).fma(dx.mul(d[db + 3]), a3);
            FloatVector bias2 = FloatVector.fromArray(F, sl, bo2 + b * L);
            FloatVector dx2 = FloatVector.fromArray(F, dl, bo2 + b * L);
            c0 = t0.sub(bias2).fma(dx2.mul(d[db]), c0);
            c1 = t1.sub(bias2).fma(dx2.mul(d[db + 1]), c1);
            c2 = t2.sub(bias2).fma(dx2.mul(d[db + 2]), c2);
            c3 = t3.sub(bias2).fma(dx2.mul(d[db + 3]), c3);
        }
        float[] tmp = s.lanes; // vectors go through an array: as arguments of a call the JIT may not inline, they would be boxed
        a0.intoArray(tmp, 0);
        a1.intoArray(tmp, L);
        a2.intoArray(tmp, 2 * L);
        a3.intoArray(tmp, 3 * L);
        scatter(tmp, tg, out, outStride, r, n);
        c0.intoArray(tmp, 0);
        c1.intoArray(tmp, L);
        c2.intoArray(tmp, 2 * L);
        c3.intoArray(tmp, 3 * L);
        scatter(tmp, tg + 1, out, outStride, r, n);
    }

    /** tmp[k * L + i] is row r + k's value for token tg * L + i: to the tokens' output rows. */
    private static void scatter(float[] tmp, int tg, float[] out, int outStride, int r, int n) {
        int tokens = Math.min(L, n - tg * L);
        int t0 = tg * L;
        for (int i = 0; i < tokens; i++) {
            int o = (t0 + i) * outStride + r;
            out[o] = tmp[i];
            out[o + 1] = tmp[L + i];
            out[o + 2] = tmp[2 * L + i];
            out[o + 3] = tmp[3 * L + i];
        }
    }

    /** Per-thread buffers, shared by all Q4_0 matrices (sized for the widest): one decoded group. */
    private static final class Scratch {
        final float[] lanes = new float[4 * L];
        float[] q = new float[0];
        float[] d = new float[0];

        void ensure(int cols) {
            if (q.length < L * cols) {
                q = new float[L * cols];
                d = new float[L * cols / 32];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
}
