package dev.flint.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * Q4_0: fp16 d, 16 bytes of nibbles (byte j: element j low, element j + 16 high); value = d * (nibble - 8). Q4_1: fp16
 * d, fp16 m, the same nibbles; value = d * nibble + m.
 *
 * <p>llama.cpp's x86 build repacks Q4_0 weights at load into interleaved blocks of eight rows (q4_0_8x8) and runs a
 * block chain per row and token; Flint does the same ({@link RowGroupMatrix}), and runs Q4_1 (which llama.cpp does
 * not repack) the same way with its minimum chain beside. One load of a repacked group gives bytes j and j + 1 of L
 * rows (elements j, j + 1 in their low nibbles, j + 16, j + 17 in their high ones), multiplied in 16-bit lanes by a
 * broadcast pair of activations.
 *
 * <p>Integer sums are formed as {@code sum(nibble * q_x)}; for Q4_0 the bias of 8 comes off with the activations'
 * block sum: {@code isum = sum(nibble * q_x) - 8 * sum(q_x)}.
 */
final class Q4Matrix extends RowGroupMatrix {
    private final int blockBytes;

    Q4Matrix(GgmlType type, MemorySegment data, int rows, int cols, boolean repack) {
        super(type, data, rows, cols, type == GgmlType.Q4_1 ? 2 : 1, 0, 16, null, type == GgmlType.Q4_1 ? 0 : 8,
                repack);
        if (type != GgmlType.Q4_0 && type != GgmlType.Q4_1) {
            throw new IllegalArgumentException("not a 4-bit legacy type: " + type);
        }
        this.blockBytes = type.blockBytes;
    }

    /**
     * KernelAb, 4864 x 896 Q4_0, two threads, a partly filled 16-bit tile against the tokens one by one: 8 tokens
     * 1.51x the time, 10 tokens 1.16x, 12 even (0.94x and 1.14x in the two orders), 14 tokens 0.87x.
     */
    @Override
    int partialGroupFrom() {
        return 13;
    }

    /** Offset of the nibbles in a mapped block. */
    private int quants() {
        return hasMins ? 4 : 2;
    }

    @Override
    protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
        long base = row * rowBytes;
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * blockBytes;
            scale[b] = Kernels.f16(data, p);
            if (hasMins) {
                min[b] = Kernels.f16(data, p + 2);
            }
            LegacyQuants.nibbles(data, p + quants(), q, 32 * b, (byte) bias);
        }
    }

    /**
     * Group g's L rows times token t into {@code out[o .. o + L)}: per block, the L integer sums in 16-bit lanes, row
     * k's bytes j and j + 1 side by side (the repacked layout) times the activation pair {@code q[j], q[j + 1]}
     * broadcast into every 32-bit lane ({@link Activations#pairs16}). A lane adds 16 products of a nibble (0..15)
     * and an 8-bit integer, at most 16 * 15 * 127 = 30480 in magnitude, so the shorts never overflow; the two
     * halves of each 32-bit lane are then added as ints, the bias of 8 (Q4_0) comes off, and the chain step runs in
     * float, beside the minimum chain (Q4_1).
     * The same exact integers as a float form, in about half its instructions (it widened every nibble to a float
     * lane and broadcast every activation on its own).
     */
    @Override
    void groupDot(int g, Activations x, int t, float[] out, int o) {
        int[] xp = x.pairs16();
        float[] xd = x.d;
        float[] xs = x.xsum;
        int xo = t * (cols / 2);
        int go = t * blocks;
        long base = (long) g * blocks * groupBlockBytes;
        ShortVector zs = ShortVector.zero(S2);
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long p = base + b * groupBlockBytes;
            long q = p + quantsAt;
            int xb = xo + 16 * b; // pair index of the block's element 0
            ShortVector lo = zs, hi = zs;
            for (int m = 0; m < 8; m++) {
                ShortVector w = pairBytes(q + (long) m * 2 * L);
                lo = lo.add(w.and((short) 0xF).mul(broadcastPair(xp[xb + m])));
                hi = hi.add(w.lanewise(VectorOperators.LSHR, 4).mul(broadcastPair(xp[xb + 8 + m])));
            }
            IntVector v = lo.add(hi).reinterpretAsInts();
            IntVector isum = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(v.lanewise(VectorOperators.ASHR, 16));
            FloatVector f = (FloatVector) isum.convert(VectorOperators.I2F, 0);
            if (bias != 0) {
                f = f.sub(8f * xs[go + b]);
            }
            acc = f.fma(RowGroups.scales(packed, p).mul(xd[go + b]), acc);
        }
        acc.intoArray(out, o);
    }

    /**
     * One row and token from the mapped bytes: the block chain, each block's integer sum formed lane-wise in a vector
     * (products and sums of small integers, exact in float) and then summed over the lanes (exact too, in any order).
     */
    @Override
    float rowDot(int row, Activations x, int t) {
        long base = row * rowBytes;
        int xo = t * cols;
        int go = t * blocks;
        float[] xf = x.f;
        float[] xd = x.d;
        float[] xs = x.xsum;
        float acc = 0f;
        float macc = 0f;
        int qo = quants();
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * blockBytes;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                IntVector v = Kernels.unsignedInts(data, p + qo + j);
                s = lowNibbles(v).fma(FloatVector.fromArray(F, xf, xo + 32 * b + j), s);
                s = highNibbles(v).fma(FloatVector.fromArray(F, xf, xo + 32 * b + 16 + j), s);
            }
            float isum = s.reduceLanes(VectorOperators.ADD);
            if (hasMins) {
                macc = Math.fma(Kernels.f16(data, p + 2), xs[go + b], macc);
            } else {
                isum -= 8f * xs[go + b];
            }
            acc = Math.fma(isum, Kernels.f16(data, p) * xd[go + b], acc);
        }
        return hasMins ? acc + macc : acc;
    }

    private static FloatVector lowNibbles(IntVector v) {
        return (FloatVector) v.and(0xF).convert(VectorOperators.I2F, 0);
    }

    private static FloatVector highNibbles(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
    }

    /** Row {@code row}'s nibbles plus 8 - bias as floats (Q4_0: the nibbles; Q4_1: nibble + 8), scales, minimums. */
    @Override
    void decodeForLanes(int row, float[] q, int qo, float[] d, float[] m, int dO) {
        long base = row * rowBytes;
        int off = 8 - bias;
        int qb = quants();
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * blockBytes;
            d[dO + b] = Kernels.f16(data, p);
            if (hasMins) {
                m[dO + b] = Kernels.f16(data, p + 2);
            }
            for (int j = 0; j < 16; j += L) {
                IntVector v = Kernels.unsignedInts(data, p + qb + j);
                Kernels.toFloat(v.and(0xF).add(off)).intoArray(q, qo + 32 * b + j);
                Kernels.toFloat(v.lanewise(VectorOperators.LSHR, 4).add(off)).intoArray(q, qo + 32 * b + 16 + j);
            }
        }
    }

    /**
     * Group g's nibbles plus 8 - bias as floats, element-major: {@code q[e * L + k]} is element e of row g * L + k;
     * {@code d[b * L + k]} its block scales, {@code m[b * L + k]} its minimums.
     */
    @Override
    void decodeGroup(int g, float[] q, float[] d, float[] m) {
        long base = (long) g * blocks * groupBlockBytes;
        int off = 8 - bias;
        for (int b = 0; b < blocks; b++) {
            long p = base + b * groupBlockBytes;
            blockScales(p, b, d, m);
            for (int j = 0; j < 8; j++) {
                // lane k: byte 2j of row k in bits 0-7, byte 2j + 1 in bits 16-23
                IntVector v = pairBytes(p + quantsAt + (long) j * 2 * L).reinterpretAsInts();
                int e = 32 * b + 2 * j;
                Kernels.toFloat(v.and(0xF).add(off)).intoArray(q, e * L);
                Kernels.toFloat(v.lanewise(VectorOperators.LSHR, 4).and(0xF).add(off)).intoArray(q, (e + 16) * L);
                Kernels.toFloat(v.lanewise(VectorOperators.LSHR, 16).and(0xF).add(off)).intoArray(q, (e + 1) * L);
                Kernels.toFloat(v.lanewise(VectorOperators.LSHR, 20).add(off)).intoArray(q, (e + 17) * L);
            }
        }
    }

    @Override
    void decodePairs(int g, int[] pairs, float[] d, float[] m) {
        long base = (long) g * blocks * groupBlockBytes;
        short off = (short) bias;
        for (int b = 0; b < blocks; b++) {
            long p = base + b * groupBlockBytes;
            blockScales(p, b, d, m);
            for (int j = 0; j < 8; j++) {
                // lanes 2k, 2k + 1: bytes 2j and 2j + 1 of row k, so elements 2j, 2j + 1 (low nibbles) and 2j + 16,
                // 2j + 17 (high ones)
                ShortVector w = pairBytes(p + quantsAt + (long) j * 2 * L);
                w.and((short) 0xF).sub(off).reinterpretAsInts().intoArray(pairs, (16 * b + j) * L);
                w.lanewise(VectorOperators.LSHR, 4).sub(off).reinterpretAsInts().intoArray(pairs, (16 * b + 8 + j) * L);
            }
        }
    }
}
