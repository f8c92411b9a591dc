package dev.flint.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static dev.flint.engine.tensor.Kernels.L;

/**
 * Q4_K weights rewritten so that the vector lanes hold rows, as {@link RowGroups} does for the legacy types: each
 * group of L rows becomes, super-block by super-block,
 * <ul>
 * <li>the L rows' d as floats ({@link #D}), then their dmin ({@link #DMIN}): converted here, as the kernels would
 * otherwise convert them per super-block and token (and C2 stopped inlining the conversion in the kernel);</li>
 * <li>their eight 6-bit scales unpacked to bytes, sub-block by sub-block ({@link #SCALES}: byte {@code 16 s + k} is
 * sub-block s of row k), then the eight mins the same way ({@link #MINS});</li>
 * <li>their 128 bytes of nibbles in pairs ({@link #QUANTS}: byte l of the 32 that hold sub-blocks 2i and 2i + 1 of
 * row k at {@code 4 L (4 (l / 4) + i) + 2 L ((l / 2) % 2) + 2 k + l % 2}).</li>
 * </ul>
 * One 2L-byte load then gives bytes l and l + 1 of all L rows, the low nibbles elements l, l + 1 of sub-block 2i and
 * the high nibbles those of 2i + 1. The pairs are ordered as the kernel reads them, positions 4k..4k+3 of the four
 * pairs of sub-blocks, then the next four positions: read out of order (pair-major), the same kernel ran 1.25x
 * slower from memory than the mapped rows, while faster from the cache. The scales are unpacked once here instead of
 * once per super-block per token.
 */
final class Q4KRowGroups {
    static final int D = 0;
    static final int DMIN = 4 * L;
    static final int SCALES = 8 * L;
    static final int MINS = 16 * L;
    static final int QUANTS = 24 * L;
    /** Bytes of one super-block of a group (38 cache lines for L = 16, so every block starts on one). */
    static final int BLOCK = QUANTS + 128 * L;
    private static final int SOURCE_BLOCK = 144;
    /**
     * Q5_K's layout: the same, with the 32 high-bit bytes of each row (bit s of byte l is the fifth bit of position l
     * of sub-block s) in pairs before the nibbles ({@link #QH_Q5}: byte l of row k at
     * {@code 4 L (l / 4) + 2 L ((l / 2) % 2) + 2 k + l % 2}, positions 4k..4k+3 together, as the kernel reads them).
     */
    static final int QH_Q5 = 24 * L;
    static final int QUANTS_Q5 = QH_Q5 + 32 * L;
    static final int BLOCK_Q5 = QUANTS_Q5 + 128 * L;
    private static final int SOURCE_BLOCK_Q5 = 176;
    private static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle FLOATS = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Q4KRowGroups() {}

    /** Offset in a block's quants of byte l of the 32 that hold sub-blocks 2i and 2i + 1 of row k. */
    static int quant(int i, int l, int k) {
        return 4 * L * (4 * (l / 4) + i) + 2 * L * (l / 2 % 2) + 2 * k + l % 2;
    }

    /** Offset in a Q5_K block's high-bit bytes ({@link #QH_Q5}) of byte l of row k. */
    static int highBits(int l, int k) {
        return 4 * L * (l / 4) + 2 * L * (l / 2 % 2) + 2 * k + l % 2;
    }

    /**
     * Rows [0, groups * L) of {@code data} in the layout above, in native memory freed with the matrix that holds it;
     * null when there is no whole group.
     */
    static MemorySegment interleave(MemorySegment data, int rows, int superBlocks) {
        return RowGroups.rewrite(data, rows, superBlocks, SOURCE_BLOCK, BLOCK, Q4KRowGroups::writeBlock);
    }

    /** {@link #interleave} for Q5_K ({@link #QH_Q5}). */
    static MemorySegment interleaveQ5(MemorySegment data, int rows, int superBlocks) {
        return RowGroups.rewrite(data, rows, superBlocks, SOURCE_BLOCK_Q5, BLOCK_Q5, (in, src, group, p, k) -> {
            writeHead(in, src, group, p, k);
            for (int l = 0; l < 32; l += 2) {
                SHORTS.set(group, p + QH_Q5 + highBits(l, k),
                        (short) SHORTS.get(in, src + 16 + l));
            }
            writeQuants(in, src + 48, group, p + QUANTS_Q5, k);
        });
    }

    /** Row k's super-block at {@code in[src ..]} into its group's block at {@code group[p ..]}. */
    private static void writeBlock(byte[] in, int src, byte[] group, int p, int k) {
        writeHead(in, src, group, p, k);
        writeQuants(in, src + 16, group, p + QUANTS, k);
    }

    /** d, dmin, the scales and the mins of row k's super-block. */
    private static void writeHead(byte[] in, int src, byte[] group, int p, int k) {
        FLOATS.set(group, p + D + 4 * k, Float.float16ToFloat((short) SHORTS.get(in, src)));
        FLOATS.set(group, p + DMIN + 4 * k, Float.float16ToFloat((short) SHORTS.get(in, src + 2)));
        long lo = (long) LONGS.get(in, src + 4);
        int hi = (int) INTS.get(in, src + 12);
        long scales = KQuants.PackedScalesAndMins.scales(lo, hi);
        long mins = KQuants.PackedScalesAndMins.mins(lo, hi);
        for (int s = 0; s < 8; s++) {
            group[p + SCALES + L * s + k] = (byte) (scales >>> 8 * s);
            group[p + MINS + L * s + k] = (byte) (mins >>> 8 * s);
        }
    }

    /** Row k's 128 bytes of nibbles (from {@code in[src]}) to the quants at {@code group[q ..]}. */
    private static void writeQuants(byte[] in, int src, byte[] group, int q, int k) {
        for (int i = 0; i < 4; i++) {
            for (int l = 0; l < 32; l += 2) {
                SHORTS.set(group, q + quant(i, l, k),
                        (short) SHORTS.get(in, src + 32 * i + l));
            }
        }
    }
}
