package dev.flint.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * Q5_0: fp16 d, u32 high bits (bit e: element e's bit 4), 16 bytes of nibbles (byte j: element j low, j + 16 high);
 * value = d * ((nibble | high << 4) - 16). Q5_1: fp16 d, fp16 m, the same high bits and nibbles; value =
 * d * (nibble | high << 4) + m.
 *
 * <p>Multiplied like Q4_0 ({@link RowGroupMatrix}): rows repacked in groups, one exact block sum and one float chain
 * step per row, block and token (Q5_1: and its minimum chain). llama.cpp does not repack these types (its AVX2
 * kernels sum eight lanes and then the lanes); the chain keeps every batch size identical with a single rounding
 * order and lets the single-token kernel run in integer lanes. The high-bit word of each row is rewritten at repack:
 * bits of even elements in its low 16 bits, of odd ones in its high 16 ({@code bit i of a half: element 2i or
 * 2i + 1}), so that, seen as 16-bit lanes beside the pair-interleaved nibbles, each lane finds its elements' bits at
 * the same position.
 */
final class Q5Matrix extends RowGroupMatrix {
    private final int blockBytes;
    /** Offsets of the high bits and of the nibbles in a mapped block. */
    private final int highAt, nibblesAt;

    Q5Matrix(GgmlType type, MemorySegment data, int rows, int cols, boolean repack) {
        super(type, data, rows, cols, type == GgmlType.Q5_1 ? 2 : 1, 4, 16, Q5Matrix::evenBitsLowOddBitsHigh,
                type == GgmlType.Q5_1 ? 0 : 16, repack);
        if (type != GgmlType.Q5_0 && type != GgmlType.Q5_1) {
            throw new IllegalArgumentException("not a 5-bit legacy type: " + type);
        }
        this.blockBytes = type.blockBytes;
        this.highAt = hasMins ? 4 : 2;
        this.nibblesAt = highAt + 4;
    }

    /**
     * Q5_0's single-token kernel costs more than Q4_0's, so a partly filled 16-bit tile pays off sooner (KernelAb,
     * 4864 x 896, two threads: 8 tokens even, 10 tokens 0.83x the time per token, or per token 1.30x in the other
     * order, 12 tokens 0.71x). Q5_1 keeps the float tiles, which were slower than per token up to 15.
     */
    @Override
    int partialGroupFrom() {
        return shortTiles() ? 10 : L + 1;
    }

    static int evenBitsLowOddBitsHigh(int qh) {
        return Integer.compress(qh, 0x55555555) | Integer.compress(qh, 0xAAAAAAAA) << 16;
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
            LegacyQuants.fiveBits(data, p + nibblesAt, data.get(Kernels.INT, p + highAt), q, 32 * b, bias);
        }
    }

    /**
     * Group g's L rows times token t into {@code out[o .. o + L)}, in 16-bit lanes as Q4_0's: per pair of bytes, the
     * low nibbles (elements 2m, 2m + 1) and the high ones (2m + 16, 2m + 17), each with its bit 4 from the row's
     * rewritten high-bit word, times the broadcast activation pairs. Unbiased values (0..31) go into two
     * accumulators of eight products each, at most 8 * 31 * 127 = 31496 in magnitude, so the shorts never overflow;
     * their halves are added as ints, and (Q5_0) 16 times the activations' block sum comes off; Q5_1 runs its minimum
     * chain beside.
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
            // lane 2k: row k's bits of even elements (bit i: element 2i), lane 2k + 1: of odd ones
            ShortVector h = IntVector.fromMemorySegment(Kernels.I, packed, p + wordsAt, Kernels.LE).reinterpretAsShorts();
            ShortVector h4 = h.lanewise(VectorOperators.LSHL, 4);
            long q = p + quantsAt;
            int xb = xo + 16 * b; // pair index of the block's element 0
            ShortVector lo = zs, hi = zs;
            for (int m = 0; m < 8; m++) {
                ShortVector w = pairBytes(q + (long) m * 2 * L);
                // elements 2m, 2m + 1 take bit m of their half, elements 2m + 16, 2m + 17 bit m + 8; both to bit 4
                ShortVector wl = w.and((short) 0xF).or(h4.lanewise(VectorOperators.LSHR, m).and((short) 0x10));
                ShortVector wh = w.lanewise(VectorOperators.LSHR, 4)
                        .or(h.lanewise(VectorOperators.LSHR, m + 4).and((short) 0x10));
                lo = lo.add(wl.mul(broadcastPair(xp[xb + m])));
                hi = hi.add(wh.mul(broadcastPair(xp[xb + 8 + m])));
            }
            IntVector a = lo.reinterpretAsInts();
            IntVector c = hi.reinterpretAsInts();
            IntVector isum = a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(a.lanewise(VectorOperators.ASHR, 16))
                    .add(c.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(c.lanewise(VectorOperators.ASHR, 16)));
            FloatVector f = (FloatVector) isum.convert(VectorOperators.I2F, 0);
            if (bias != 0) {
                f = f.sub(16f * xs[go + b]);
            }
            acc = f.fma(RowGroups.scales(packed, p).mul(xd[go + b]), acc);
        }
        acc.intoArray(out, o);
    }

    /**
     * One row and token from the mapped bytes: the block chain, each block's integer sum of unbiased values times
     * activations formed lane-wise in float and summed over the lanes (exact: integers below 2^24, in any order).
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
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * blockBytes;
            IntVector high = IntVector.broadcast(Kernels.I, data.get(Kernels.INT, p + highAt))
                    .lanewise(VectorOperators.ROR, LegacyQuants.HIGH_BIT_ROTATION);
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                IntVector v = Kernels.unsignedInts(data, p + nibblesAt + j);
                IntVector lo = v.and(0xF).or(high.lanewise(VectorOperators.ROR, j).and(16));
                IntVector hi = v.lanewise(VectorOperators.LSHR, 4).or(high.lanewise(VectorOperators.ROR, 16 + j).and(16));
                s = Kernels.toFloat(lo).fma(FloatVector.fromArray(F, xf, xo + 32 * b + j), s);
                s = Kernels.toFloat(hi).fma(FloatVector.fromArray(F, xf, xo + 32 * b + 16 + j), s);
            }
            float isum = s.reduceLanes(VectorOperators.ADD);
            if (hasMins) {
                macc = Math.fma(Kernels.f16(data, p + 2), xs[go + b], macc);
            } else {
                isum -= 16f * xs[go + b];
            }
            acc = Math.fma(isum, Kernels.f16(data, p) * xd[go + b], acc);
        }
        return hasMins ? acc + macc : acc;
    }

    /** Row {@code row}'s values plus 8 - bias (unsigned values, minus 8 for Q5_0, plus 8 for Q5_1) as floats. */
    @Override
    void decodeForLanes(int row, float[] q, int qo, float[] d, float[] m, int dO) {
        long base = row * rowBytes;
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * blockBytes;
            d[dO + b] = Kernels.f16(data, p);
            if (hasMins) {
                m[dO + b] = Kernels.f16(data, p + 2);
            }
            LegacyQuants.fiveBits(data, p + nibblesAt, data.get(Kernels.INT, p + highAt), q, qo + 32 * b, bias - 8);
        }
    }

    @Override
    void decodeGroup(int g, float[] q, float[] d, float[] m) {
        long base = (long) g * blocks * groupBlockBytes;
        int off = 8 - bias;
        for (int b = 0; b < blocks; b++) {
            long p = base + b * groupBlockBytes;
            blockScales(p, b, d, m);
            IntVector hw = IntVector.fromMemorySegment(Kernels.I, packed, p + wordsAt, Kernels.LE);
            // written out without helpers: left out of line, they boxed every vector (JFR allocation samples)
            for (int j = 0; j < 8; j++) {
                // lane k: byte 2j of row k in bits 0-7, byte 2j + 1 in bits 16-23
                IntVector v = pairBytes(p + quantsAt + (long) j * 2 * L).reinterpretAsInts();
                int e = 32 * b + 2 * j;
                IntVector h0 = hw.lanewise(VectorOperators.LSHR, j).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector h1 = hw.lanewise(VectorOperators.LSHR, j + 8).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector h2 = hw.lanewise(VectorOperators.LSHR, 16 + j).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector h3 = hw.lanewise(VectorOperators.LSHR, 24 + j).and(1).lanewise(VectorOperators.LSHL, 4);
                ((FloatVector) v.and(0xF).or(h0).add(off).convert(VectorOperators.I2F, 0)).intoArray(q, e * L);
                ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).and(0xF).or(h1).add(off).convert(VectorOperators.I2F, 0))
                        .intoArray(q, (e + 16) * L);
                ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).and(0xF).or(h2).add(off).convert(VectorOperators.I2F, 0))
                        .intoArray(q, (e + 1) * L);
                ((FloatVector) v.lanewise(VectorOperators.LSHR, 20).or(h3).add(off).convert(VectorOperators.I2F, 0))
                        .intoArray(q, (e + 17) * L);
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
            ShortVector h = IntVector.fromMemorySegment(Kernels.I, packed, p + wordsAt, Kernels.LE).reinterpretAsShorts();
            ShortVector h4 = h.lanewise(VectorOperators.LSHL, 4);
            for (int j = 0; j < 8; j++) {
                // as groupDot: elements 2j, 2j + 1 take bit j of their half, elements 2j + 16, 2j + 17 bit j + 8
                ShortVector w = pairBytes(p + quantsAt + (long) j * 2 * L);
                w.and((short) 0xF).or(h4.lanewise(VectorOperators.LSHR, j).and((short) 0x10)).sub(off)
                        .reinterpretAsInts().intoArray(pairs, (16 * b + j) * L);
                w.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, j + 4).and((short) 0x10))
                        .sub(off).reinterpretAsInts().intoArray(pairs, (16 * b + 8 + j) * L);
            }
        }
    }
}
