package dev.flint.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.Arena;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.IntUnaryOperator;

import static dev.flint.engine.tensor.Kernels.L;

/**
 * Weights of an "fp16 scale (and minimum), then payload bytes" block type (Q4_0, Q4_1, Q5_0, Q5_1) rewritten so that
 * the vector lanes hold rows: each group of L rows becomes, block by block, the L rows' fp16 scales (then their fp16
 * minimums, for the types that have them), then (Q5) one 32-bit word per row, then the rows' quant bytes interleaved
 * in pairs ({@code byte j of row k} at {@code (2 halves + words) L + (j / 2) 2 L + 2 k + j % 2}). One load of 2 L
 * bytes then gives bytes j and j + 1 of all L rows, row k's two side by side (one 32-bit lane once widened to 16-bit
 * lanes), so a single-token product runs each row's own chain of block operations in its own lane, with no sum
 * across lanes. llama.cpp repacks Q4_0 the same way at load (q4_0_8x8) for the same reason.
 */
final class RowGroups {
    /** 2^112: rescales an fp16 exponent moved into a float's exponent field (bias 15 to bias 127), exactly. */
    static final float F16_EXPONENT_SHIFT = 0x1p112f;
    /** Two bytes of a byte array as one short (the interleaving moves pairs). */
    private static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private RowGroups() {}

    /** Bytes of one block of a group: L times the block's fp16 values ({@code halves} of them) and payload. */
    static long blockBytes(int halves, int payload) {
        return (2L * halves + payload) * L;
    }

    /**
     * Rows [0, groups * L) of {@code data} (blocks of {@code halves} fp16 values, {@code words} bytes of a 32-bit
     * word (0 or 4), and {@code payload} quant bytes, payload even) in the interleaved layout, each word rewritten by
     * {@code word} (null: kept), in native memory freed with the matrix that holds it; null when the matrix has no
     * whole group or an fp16 value of those rows is infinite or NaN (the vector conversion {@link #scales} handles
     * finite values only). Each group is
     * read with one bulk copy, rearranged in a heap array and written with another (per-byte segment accesses cost
     * about three times as much); the scales are checked in the same pass.
     */
    static MemorySegment interleave(MemorySegment data, int rows, int blocks, int halves, int words, int payload,
            IntUnaryOperator word) {
        int groups = rows / L;
        if (groups == 0 || payload % 2 != 0 || (words != 0 && words != 4)) {
            return null;
        }
        int head = 2 * halves;
        int size = head + words + payload;
        int groupBlock = (int) blockBytes(halves, words + payload);
        int rowBytes = blocks * size;
        MemorySegment out = Arena.ofAuto().allocate(groups * (long) blocks * groupBlock, 64);
        byte[] in = new byte[L * rowBytes];
        byte[] group = new byte[blocks * groupBlock];
        ByteBuffer inWords = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer outWords = ByteBuffer.wrap(group).order(ByteOrder.LITTLE_ENDIAN);
        for (int g = 0; g < groups; g++) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, (long) g * in.length, in, 0, in.length);
            for (int k = 0; k < L; k++) {
                for (int b = 0; b < blocks; b++) {
                    int src = k * rowBytes + b * size;
                    int p = b * groupBlock;
                    for (int h = 0; h < halves; h++) {
                        if ((in[src + 2 * h + 1] & 0x7C) == 0x7C) { // fp16 exponent all ones (little-endian high byte)
                            return null;
                        }
                        group[p + 2 * L * h + 2 * k] = in[src + 2 * h];
                        group[p + 2 * L * h + 2 * k + 1] = in[src + 2 * h + 1];
                    }
                    if (words != 0) {
                        int w = inWords.getInt(src + head);
                        outWords.putInt(p + head * L + 4 * k, word == null ? w : word.applyAsInt(w));
                    }
                    int q = p + (head + words) * L + 2 * k;
                    int from = src + head + words;
                    for (int j = 0; j < payload; j += 2) { // bytes j, j + 1 as one short
                        SHORTS.set(group, q + j * L, (short) SHORTS.get(in, from + j));
                    }
                }
            }
            MemorySegment.copy(group, 0, out, ValueLayout.JAVA_BYTE, (long) g * group.length, group.length);
        }
        return out;
    }

    /** 2L bytes of {@code packed} at p (bytes j and j + 1 of L rows) zero-extended to 2L shorts. */
    static ShortVector pairBytes(MemorySegment packed, long p) {
        return (ShortVector) ByteVector.fromMemorySegment(RowGroupMatrix.B2, packed, p, Kernels.LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, RowGroupMatrix.S2, 0);
    }

    /** 2L bytes of {@code packed} at p sign-extended to 2L shorts. */
    static ShortVector signedPairBytes(MemorySegment packed, long p) {
        return (ShortVector) ByteVector.fromMemorySegment(RowGroupMatrix.B2, packed, p, Kernels.LE)
                .convertShape(VectorOperators.B2S, RowGroupMatrix.S2, 0);
    }

    /** Two 16-bit integers (low, high) in every 32-bit lane, as 2L shorts. */
    static ShortVector broadcastPair(int pair) {
        return IntVector.broadcast(Kernels.I, pair).reinterpretAsShorts();
    }

    /** Writes row k's block (its bytes at {@code in[src ..]}) into its group's block at {@code group[p ..]}. */
    interface BlockWriter {
        void write(byte[] in, int src, byte[] group, int p, int k);
    }

    /**
     * Rows [0, groups * L) of {@code data} (rows of {@code blocks} blocks of {@code sourceBlock} bytes) rewritten block
     * by block into groups of L rows with blocks of {@code groupBlock} bytes, in native memory freed with the matrix
     * that holds it; null when there is no whole group. Each group is read with one bulk copy, rearranged in a heap
     * array and written with another (the K-quants' layouts; {@link #interleave} is this for the legacy types, with
     * its scale check).
     */
    static MemorySegment rewrite(MemorySegment data, int rows, int blocks, int sourceBlock, int groupBlock,
            BlockWriter writer) {
        int groups = rows / L;
        if (groups == 0) {
            return null;
        }
        int rowBytes = blocks * sourceBlock;
        MemorySegment out = Arena.ofAuto().allocate(groups * (long) blocks * groupBlock, 64);
        byte[] in = new byte[L * rowBytes];
        byte[] group = new byte[blocks * groupBlock];
        for (int g = 0; g < groups; g++) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, (long) g * in.length, in, 0, in.length);
            for (int k = 0; k < L; k++) {
                for (int b = 0; b < blocks; b++) {
                    writer.write(in, k * rowBytes + b * sourceBlock, group, b * groupBlock, k);
                }
            }
            MemorySegment.copy(group, 0, out, ValueLayout.JAVA_BYTE, (long) g * group.length, group.length);
        }
        return out;
    }

    /** Rows in whole groups of {@code packed} (null: none). */
    static int groups(MemorySegment packed, int rows) {
        return packed == null ? 0 : rows / L;
    }

    /**
     * The L fp16 scales at p as floats, exactly for finite values (normal and subnormal): sign, exponent and mantissa
     * moved to their float positions, then the exponent's bias corrected by a power-of-two multiply.
     */
    static FloatVector scales(MemorySegment packed, long p) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(Kernels.S, packed, p, Kernels.LE)
                .convertShape(VectorOperators.S2I, Kernels.I, 0); // sign-extended: bits 28-31 copy the sign
        return h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(F16_EXPONENT_SHIFT);
    }
}
