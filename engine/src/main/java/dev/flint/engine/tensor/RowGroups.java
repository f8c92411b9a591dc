package dev.flint.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.flint.engine.tensor.Kernels.L;

/**
 * Weights of an "fp16 scale, then payload bytes" block type (Q4_0) rewritten so that the vector lanes hold
 * rows: each group of L rows becomes, block by block, the L rows' fp16 scales followed by their payload bytes
 * interleaved ({@code byte j of row k} at {@code 2 L + j L + k}). One load then gives byte j of all L rows, so a
 * single-token product runs each row's own chain of block operations in its own lane, with no sum across lanes.
 * llama.cpp repacks Q4_0 the same way at load (q4_0_8x8) for the same reason.
 */
final class RowGroups {
    /** 2^112: rescales an fp16 exponent moved into a float's exponent field (bias 15 to bias 127), exactly. */
    private static final float F16_EXPONENT_SHIFT = 0x1p112f;

    private RowGroups() {}

    /** Bytes of one block of a group: L scales and L payloads. */
    static long blockBytes(int payload) {
        return (2L + payload) * L;
    }

    /**
     * Rows [0, groups * L) of {@code data} (blocks of 2 + payload bytes) in the interleaved layout, in native memory
     * freed with the matrix that holds it; null when the matrix has no whole group or a scale is infinite or NaN
     * (the vector scale conversion handles finite values only).
     */
    static MemorySegment interleave(MemorySegment data, int rows, int blocks, int payload) {
        int groups = rows / L;
        int size = 2 + payload;
        if (groups == 0) {
            return null;
        }
        for (long b = 0, n = (long) rows * blocks; b < n; b++) {
            if ((data.get(Kernels.SHORT, b * size) & 0x7C00) == 0x7C00) {
                return null;
            }
        }
        long groupBlock = blockBytes(payload);
        MemorySegment out = Arena.ofAuto().allocate(groups * (long) blocks * groupBlock, 64);
        byte[] row = new byte[blocks * size];
        for (int g = 0; g < groups; g++) {
            long groupBase = (long) g * blocks * groupBlock;
            for (int k = 0; k < L; k++) {
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, ((long) g * L + k) * row.length, row, 0, row.length);
                for (int b = 0; b < blocks; b++) {
                    long p = groupBase + b * groupBlock;
                    int src = b * size;
                    out.set(ValueLayout.JAVA_BYTE, p + 2L * k, row[src]);
                    out.set(ValueLayout.JAVA_BYTE, p + 2L * k + 1, row[src + 1]);
                    long q = p + 2L * L + k;
                    for (int j = 0; j < payload; j++) {
                        out.set(ValueLayout.JAVA_BYTE, q + (long) j * L, row[src + 2 + j]);
                    }
                }
            }
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
