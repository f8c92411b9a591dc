package dev.flint.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
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
 * there is no lane sum at all, and every batch size gives the same result. Flint computes the same chain, with
 * vector lanes holding 16 rows (one token) or 16 tokens (one row) instead of llama.cpp's eight rows.
 *
 * <p>Integer sums are formed in float (exact: at most 32 * 15 * 127 in magnitude) as {@code sum(nibble * q_x)}; the
 * bias of 8 comes off with the activations' block sum: {@code isum = sum(nibble * q_x) - 8 * sum(q_x)}.
 */
final class Q4_0Matrix extends QuantizedMatrix {
    /** Batches of at least this many tokens put tokens in the vector lanes; smaller ones run per token. */
    static final int LANE_BATCH = 8;

    /** Rows per group in the one-token kernel: one per lane (written out for 16 lanes, see {@link #group16}). */
    private static final boolean ROWS_IN_LANES = L == 16;

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
        int r = rowFrom;
        if (ROWS_IN_LANES) {
            Scratch s = SCRATCH.get();
            for (; r + 16 <= rowTo; r += 16) {
                for (int t = 0; t < n; t++) {
                    group16(r, x, t, out, t * outStride + r, s);
                }
            }
        }
        for (; r < rowTo; r++) {
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = rowDot(r, x, t);
            }
        }
    }

    /** One row and token: the block chain with each block's integer sum formed by a vector and its lane sum. */
    private float rowDot(int row, Activations x, int t) {
        long base = row * rowBytes;
        int nb = cols / 32;
        int xo = t * cols;
        int go = t * nb;
        float acc = 0f;
        for (int b = 0; b < nb; b++) {
            long p = base + b * 18L;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                IntVector v = nibbleBytes(p + 2 + j);
                s = lowNibbles(v).fma(FloatVector.fromArray(F, x.f, xo + 32 * b + j), s);
                s = highNibbles(v).fma(FloatVector.fromArray(F, x.f, xo + 32 * b + 16 + j), s);
            }
            // integers: any summation order is exact
            float isum = s.reduceLanes(VectorOperators.ADD) - 8f * x.xsum[go + b];
            acc = Math.fma(isum, Kernels.f16(data, p) * x.d[go + b], acc);
        }
        return acc;
    }

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

    // ---- one token, 16 rows in the lanes -------------------------------------------------------------------------

    /** For combining partial sums, per level k: the lanes whose index has bit k set, and a two-vector selection. */
    private static final VectorMask<Float> B0 = bit(0), B1 = bit(1), B2 = bit(2), B3 = bit(3);
    private static final FloatVector X0 = partner(0), X1 = partner(1), X2 = partner(2), X3 = partner(3);

    private static VectorMask<Float> bit(int k) {
        boolean[] set = new boolean[L];
        for (int i = 0; i < L; i++) {
            set[i] = (i & (1 << k)) != 0;
        }
        return VectorMask.fromArray(F, set, 0);
    }

    /** Index vector for selectFrom(a, b): lane i takes a[i ^ s] where bit s of i is clear, b[i ^ s] where set. */
    private static FloatVector partner(int k) {
        float[] idx = new float[L];
        int s = 1 << k;
        for (int i = 0; i < L; i++) {
            int j = (i ^ s) % L;
            idx[i] = (i & s) == 0 ? j : L + j;
        }
        return FloatVector.fromArray(F, idx, 0);
    }

    /**
     * Lane i of the result: a's lanes i and i ^ s summed where bit s of i is clear, b's where it is set. Applied over
     * four levels to 16 vectors (one per row), lane k ends up with the sum of all lanes of vector k.
     */
    private static FloatVector combine(FloatVector a, FloatVector b, VectorMask<Float> bit, FloatVector partner) {
        return a.blend(b, bit).add(partner.selectFrom(a, b));
    }

    /** Row at {@code p} (its block's nibbles): lane-wise sum of nibble * q_x, two elements per lane. */
    private FloatVector part(long p, FloatVector xlo, FloatVector xhi) {
        IntVector v = nibbleBytes(p);
        return highNibbles(v).fma(xhi, lowNibbles(v).mul(xlo));
    }

    /** Blocks per pass of {@link #group16}: its scratch stays in the L1 cache. */
    private static final int CHUNK = 8;

    /**
     * Rows r..r+15 times token t into out[o..o+16): the block chain with the 16 rows' sums in the lanes. Per chunk of
     * blocks, one pass leaves the row pairs' combined sums and the rows' scales in scratch arrays, a second finishes
     * the sums and continues the chain. (As one method the JIT would stop inlining the vector operations, and the
     * vectors would then live on the heap.)
     */
    private void group16(int r, Activations x, int t, float[] out, int o, Scratch s) {
        int nb = cols / 32;
        java.util.Arrays.fill(s.acc, 0f);
        for (int b0 = 0; b0 < nb; b0 += CHUNK) {
            int b1 = Math.min(nb, b0 + CHUNK);
            pairs(r, x.f, t * cols, b0, b1, s.pairs, s.scales);
            chain(x, t * nb, b0, b1, s.pairs, s.scales, s.acc);
        }
        System.arraycopy(s.acc, 0, out, o, 16);
    }

    /** Blocks b0..b1 of rows r..r+15: for each row pair, lanes alternate between the rows' partial sums. */
    private void pairs(int r, float[] xf, int xo, int b0, int b1, float[] pairs, float[] scales) {
        long rb = rowBytes;
        long base = r * rb;
        for (int b = b0; b < b1; b++) {
            FloatVector xlo = FloatVector.fromArray(F, xf, xo + 32 * b);
            FloatVector xhi = FloatVector.fromArray(F, xf, xo + 32 * b + 16);
            long p = base + b * 18L;
            int po = (b - b0) * 128;
            int so = (b - b0) * 16;
            for (int k = 0; k < 16; k += 2) {
                long pk = p + k * rb;
                combine(part(pk + 2, xlo, xhi), part(pk + rb + 2, xlo, xhi), B0, X0).intoArray(pairs, po + 8 * k);
                scales[so + k] = Kernels.f16(data, pk);
                scales[so + k + 1] = Kernels.f16(data, pk + rb);
            }
        }
    }

    /** The other three levels of {@link #combine}, the bias, and the chain {@code acc = fma(isum, d_w * d_x, acc)}. */
    private static void chain(Activations x, int go, int b0, int b1, float[] pairs, float[] scales, float[] accs) {
        float[] xd = x.d;
        float[] xs = x.xsum;
        FloatVector acc = FloatVector.fromArray(F, accs, 0);
        for (int b = b0; b < b1; b++) {
            int po = (b - b0) * 128;
            FloatVector q0 = combine(FloatVector.fromArray(F, pairs, po), FloatVector.fromArray(F, pairs, po + 16), B1, X1);
            FloatVector q1 = combine(FloatVector.fromArray(F, pairs, po + 32), FloatVector.fromArray(F, pairs, po + 48), B1, X1);
            FloatVector q2 = combine(FloatVector.fromArray(F, pairs, po + 64), FloatVector.fromArray(F, pairs, po + 80), B1, X1);
            FloatVector q3 = combine(FloatVector.fromArray(F, pairs, po + 96), FloatVector.fromArray(F, pairs, po + 112), B1, X1);
            FloatVector sums = combine(combine(q0, q1, B2, X2), combine(q2, q3, B2, X2), B3, X3);
            FloatVector isum = sums.sub(8f * xs[go + b]);
            acc = isum.fma(FloatVector.fromArray(F, scales, (b - b0) * 16).mul(xd[go + b]), acc);
        }
        acc.intoArray(accs, 0);
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
            for (int g = 0; g < groups; g++) {
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
        int tokens = Math.min(L, n - g * L);
        int t0 = g * L;
        a0.intoArray(tmp, 0);
        for (int i = 0; i < tokens; i++) {
            out[(t0 + i) * outStride + r] = tmp[i];
        }
        a1.intoArray(tmp, 0);
        for (int i = 0; i < tokens; i++) {
            out[(t0 + i) * outStride + r + 1] = tmp[i];
        }
        a2.intoArray(tmp, 0);
        for (int i = 0; i < tokens; i++) {
            out[(t0 + i) * outStride + r + 2] = tmp[i];
        }
        a3.intoArray(tmp, 0);
        for (int i = 0; i < tokens; i++) {
            out[(t0 + i) * outStride + r + 3] = tmp[i];
        }
    }

    /** Per-thread buffers, shared by all Q4_0 matrices (sized for the widest). */
    private static final class Scratch {
        final float[] lanes = new float[L];
        float[][] q = new float[4][0];
        float[][] d = new float[4][0];
        final float[] pairs = new float[CHUNK * 8 * 16];
        final float[] scales = new float[CHUNK * 16];
        final float[] acc = new float[16];

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
