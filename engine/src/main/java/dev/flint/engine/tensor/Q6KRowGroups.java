package dev.flint.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static dev.flint.engine.tensor.Kernels.L;

/**
 * Q6_K weights rewritten so that the vector lanes hold rows ({@link Q4KRowGroups} does the same for Q4_K): each group
 * of L rows becomes, super-block by super-block,
 * <ul>
 * <li>the L rows' d as floats ({@link #D});</li>
 * <li>their sixteen int8 scales, sub-block by sub-block ({@link #SCALES}: byte {@code L s + k} is scale s of row
 * k);</li>
 * <li>their 256 values {@code q - 32}, one signed byte each, in pairs ({@link #QUANTS}: position j of run r, the
 * run being elements 32 r .. 32 r + 31, of row k at {@code 2 L (2 (8 (j / 4) + r) + (j / 2) % 2) + 2 k + j % 2}),
 * ordered as the kernel reads them: positions 4c..4c+3 of the eight runs, then the next four positions.</li>
 * </ul>
 * The six bits of a value are spread over two arrays (low four bits in ql, high two in qh), and placing them took more
 * operations than the product itself; a byte per value costs 1.31x the bytes of the mapped rows (4416 against 3360 per
 * super-block of a group) and leaves only the products.
 */
final class Q6KRowGroups {
    static final int D = 0;
    static final int SCALES = 4 * L;
    static final int QUANTS = 20 * L;
    /** Bytes of one super-block of a group (69 cache lines for L = 16, so every block starts on one). */
    static final int BLOCK = QUANTS + 256 * L;
    private static final int SOURCE_BLOCK = 210;
    private static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle FLOATS = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);

    private Q6KRowGroups() {}

    /** Offset in a block's quants of position j of run r, row k. */
    static int quant(int r, int j, int k) {
        return 2 * L * (2 * (8 * (j / 4) + r) + j / 2 % 2) + 2 * k + j % 2;
    }

    /**
     * Rows [0, groups * L) of {@code data} in the layout above, in native memory freed with the matrix that holds it;
     * null when there is no whole group.
     */
    static MemorySegment interleave(MemorySegment data, int rows, int superBlocks) {
        return RowGroups.rewrite(data, rows, superBlocks, SOURCE_BLOCK, BLOCK, Q6KRowGroups::writeBlock);
    }

    /** Row k's super-block at {@code in[src ..]} into its group's block at {@code group[p ..]}. */
    private static void writeBlock(byte[] in, int src, byte[] group, int p, int k) {
        FLOATS.set(group, p + D + 4 * k, Float.float16ToFloat((short) SHORTS.get(in, src + 208)));
        for (int s = 0; s < 16; s++) {
            group[p + SCALES + L * s + k] = in[src + 192 + s];
        }
        // element 128 h + 32 m + j: the low (m < 2) or high nibble of ql[64 h + 32 (m % 2) + j], with bits
        // 2m, 2m + 1 of qh[32 h + j] on top
        for (int h = 0; h < 2; h++) {
            for (int j = 0; j < 32; j++) {
                int lo = in[src + 64 * h + j] & 0xFF; // runs 4h (low nibble) and 4h + 2 (high)
                int hi = in[src + 64 * h + 32 + j] & 0xFF; // runs 4h + 1 and 4h + 3
                int qh = in[src + 128 + 32 * h + j] & 0xFF;
                int o = p + QUANTS + quant(4 * h, j, k); // run r + 1 is 4 L further
                group[o] = (byte) ((lo & 0xF | (qh & 3) << 4) - 32);
                group[o + 4 * L] = (byte) ((hi & 0xF | (qh >>> 2 & 3) << 4) - 32);
                group[o + 8 * L] = (byte) ((lo >>> 4 | (qh >>> 4 & 3) << 4) - 32);
                group[o + 12 * L] = (byte) ((hi >>> 4 | (qh >>> 6) << 4) - 32);
            }
        }
    }
}
