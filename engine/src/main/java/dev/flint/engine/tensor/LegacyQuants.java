package dev.flint.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.flint.engine.tensor.Kernels.INT;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * ggml's original block types, 32 values per block with an fp16 scale. Nibble layout (Q4/Q5): byte j of the 16 holds
 * element j in its low nibble and element j + 16 in its high nibble; Q5's u32 of high bits gives element e bit e.
 */
final class LegacyQuants {
    private LegacyQuants() {}

    /** Q8_0: fp16 d, 32 int8; value = d * q. */
    static final class Q8_0 extends QuantizedMatrix {
        Q8_0(MemorySegment data, int rows, int cols) {
            super(GgmlType.Q8_0, data, rows, cols, 32, false);
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.Q8_0;
        }

        @Override
        protected float fusedDot(int row, Activations x, float[] lanes) {
            return fusedDot(row, x, 0, lanes);
        }

        /** Token {@code t} of a small batch: right after token t - 1 the row is still in the cache. */
        @Override
        protected float fusedDot(int row, Activations x, int t, float[] lanes) {
            long base = row * rowBytes;
            float[] xdq = x.dequantized(); // q * d of the activations, computed once per token, not once per row
            int xo = t * cols;
            FloatVector acc = FloatVector.zero(Kernels.F);
            for (int b = 0; b < cols / 32; b++) {
                long p = base + b * 34L;
                FloatVector sv = FloatVector.broadcast(Kernels.F, Kernels.f16(data, p));
                for (int i = 0; i < 32; i += L) {
                    acc = Kernels.toFloat(Kernels.bytes(data, p + 2 + i)).mul(sv)
                            .fma(FloatVector.fromArray(Kernels.F, xdq, xo + 32 * b + i), acc);
                }
            }
            return Kernels.sumLanes(acc, lanes);
        }

        @Override
        protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
            long base = row * rowBytes;
            for (int b = 0; b < cols / 32; b++) {
                long p = base + b * 34L;
                scale[b] = Kernels.f16(data, p);
                for (int i = 0; i < 32; i += L) {
                    Kernels.toFloat(Kernels.bytes(data, p + 2 + i)).intoArray(q, 32 * b + i);
                }
            }
        }
    }

    /** Q4_1: fp16 d, fp16 m, 16 bytes of nibbles; value = d * nibble + m. */
    static final class Q4_1 extends QuantizedMatrix {
        Q4_1(MemorySegment data, int rows, int cols) {
            super(GgmlType.Q4_1, data, rows, cols, 32, true);
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.Q8_1;
        }

        @Override
        protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
            long base = row * rowBytes;
            for (int b = 0; b < cols / 32; b++) {
                long p = base + b * 20L;
                scale[b] = Kernels.f16(data, p);
                min[b] = Kernels.f16(data, p + 2);
                nibbles(data, p + 4, q, 32 * b, (byte) 0);
            }
        }
    }

    /** Q5_0: fp16 d, u32 high bits, 16 bytes of nibbles; value = d * ((nibble | high << 4) - 16). */
    static final class Q5_0 extends QuantizedMatrix {
        Q5_0(MemorySegment data, int rows, int cols) {
            super(GgmlType.Q5_0, data, rows, cols, 32, false);
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.Q8_0;
        }

        @Override
        protected float fusedDot(int row, Activations x, float[] lanes) {
            long base = row * rowBytes;
            float[] xq = x.f;
            float[] xd = x.d;
            FloatVector acc = FloatVector.zero(Kernels.F);
            for (int b = 0; b < cols / 32; b++) {
                long p = base + b * 22L;
                int qh = data.get(INT, p + 2);
                FloatVector pv = FloatVector.zero(Kernels.F);
                for (int j = 0; j < 16; j += L) { // elements 0..15, as the decoded row is laid out
                    ByteVector v = Kernels.bytes(data, p + 6 + j);
                    pv = fiveBitChunk(v.and((byte) 0xF), qh, j, 16).fma(FloatVector.fromArray(Kernels.F, xq, 32 * b + j), pv);
                }
                for (int j = 0; j < 16; j += L) { // then 16..31
                    ByteVector v = Kernels.bytes(data, p + 6 + j);
                    pv = fiveBitChunk(v.lanewise(VectorOperators.LSHR, 4), qh, 16 + j, 16)
                            .fma(FloatVector.fromArray(Kernels.F, xq, 32 * b + 16 + j), pv);
                }
                acc = pv.fma(FloatVector.broadcast(Kernels.F, Kernels.f16(data, p) * xd[b]), acc);
            }
            return Kernels.sumLanes(acc, lanes);
        }

        @Override
        protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
            long base = row * rowBytes;
            for (int b = 0; b < cols / 32; b++) {
                long p = base + b * 22L;
                scale[b] = Kernels.f16(data, p);
                fiveBits(data, p + 6, data.get(INT, p + 2), q, 32 * b, 16);
            }
        }
    }

    /** Q5_1: fp16 d, fp16 m, u32 high bits, 16 bytes of nibbles; value = d * (nibble | high << 4) + m. */
    static final class Q5_1 extends QuantizedMatrix {
        Q5_1(MemorySegment data, int rows, int cols) {
            super(GgmlType.Q5_1, data, rows, cols, 32, true);
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.Q8_1;
        }

        @Override
        protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
            long base = row * rowBytes;
            for (int b = 0; b < cols / 32; b++) {
                long p = base + b * 24L;
                scale[b] = Kernels.f16(data, p);
                min[b] = Kernels.f16(data, p + 2);
                fiveBits(data, p + 8, data.get(INT, p + 4), q, 32 * b, 0);
            }
        }
    }

    /** Splits 16 bytes of nibbles into 32 values (low nibbles first), minus {@code bias}. */
    static void nibbles(MemorySegment data, long p, float[] q, int o, byte bias) {
        for (int j = 0; j < 16; j += L) {
            ByteVector v = Kernels.bytes(data, p + j);
            Kernels.toFloat(v.and((byte) 0xF).sub(bias)).intoArray(q, o + j);
            Kernels.toFloat(v.lanewise(VectorOperators.LSHR, 4).sub(bias)).intoArray(q, o + 16 + j);
        }
    }

    /** 32 five-bit values: nibbles as in Q4 plus bit e of qh as bit 4 of element e, minus {@code bias}. */
    static void fiveBits(MemorySegment data, long p, int qh, float[] q, int o, int bias) {
        for (int j = 0; j < 16; j += L) {
            ByteVector v = Kernels.bytes(data, p + j);
            fiveBitChunk(v.and((byte) 0xF), qh, j, bias).intoArray(q, o + j);
            fiveBitChunk(v.lanewise(VectorOperators.LSHR, 4), qh, 16 + j, bias).intoArray(q, o + 16 + j);
        }
    }

    /** Bit i % 8 selector for lane i, and the lanes that take the second byte of the bit field. */
    private static final ByteVector BIT_OF_LANE = ByteVector.fromArray(Kernels.B,
            new byte[] {1, 2, 4, 8, 16, 32, 64, (byte) 128, 1, 2, 4, 8, 16, 32, 64, (byte) 128}, 0);
    private static final VectorMask<Byte> SECOND_BYTE = VectorMask.fromLong(Kernels.B, 0xFF00L);

    /** Lanes of nibbles plus bits [firstBit, firstBit + L) of qh as their bit 4, minus bias, as floats. */
    static FloatVector fiveBitChunk(ByteVector nibbles, int qh, int firstBit, int bias) {
        int bits = qh >>> firstBit;
        ByteVector field = ByteVector.broadcast(Kernels.B, (byte) bits)
                .blend(ByteVector.broadcast(Kernels.B, (byte) (bits >>> 8)), SECOND_BYTE);
        VectorMask<Byte> set = field.and(BIT_OF_LANE).compare(VectorOperators.NE, (byte) 0);
        ByteVector v = nibbles.or(ByteVector.zero(Kernels.B).blend((byte) 16, set)).sub((byte) bias);
        return Kernels.toFloat(v);
    }
}
