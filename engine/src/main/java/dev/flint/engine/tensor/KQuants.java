package dev.flint.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.flint.engine.tensor.Kernels.L;

/**
 * ggml's K-quants: super-blocks of 256 values. Q4_K/Q5_K carry 8 sub-blocks of 32 with 6-bit scales and mins packed
 * in 12 bytes (value = d * scale * q - dmin * min); their 128 bytes of nibbles are 4 groups of 32 bytes, group j
 * holding sub-block 2j in its low nibbles and 2j + 1 in its high ones. Q6_K has 16 int8 scales, one per 16 values.
 */
final class KQuants {
    private KQuants() {}

    /** Q4_K: fp16 d, fp16 dmin, 12 bytes scales/mins, 128 bytes nibbles. */
    static final class Q4_K extends QuantizedMatrix {
        Q4_K(MemorySegment data, int rows, int cols) {
            super(GgmlType.Q4_K, data, rows, cols, 32, true);
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.Q8_K;
        }

        @Override
        protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
            long base = row * rowBytes;
            for (int b = 0; b < cols / 256; b++) {
                long p = base + b * 144L;
                scalesAndMins(data, p, scale, min, 8 * b);
                for (int j = 0; j < 4; j++) {
                    for (int l = 0; l < 32; l += L) {
                        ByteVector v = Kernels.bytes(data, p + 16 + 32 * j + l);
                        Kernels.toFloat(v.and((byte) 0xF)).intoArray(q, 256 * b + 64 * j + l);
                        Kernels.toFloat(v.lanewise(VectorOperators.LSHR, 4)).intoArray(q, 256 * b + 64 * j + 32 + l);
                    }
                }
            }
        }
    }

    /** Q5_K: fp16 d, fp16 dmin, 12 bytes scales/mins, 32 bytes high bits (bit s of byte l for sub-block s), 128 nibbles. */
    static final class Q5_K extends QuantizedMatrix {
        Q5_K(MemorySegment data, int rows, int cols) {
            super(GgmlType.Q5_K, data, rows, cols, 32, true);
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.Q8_K;
        }

        @Override
        protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
            long base = row * rowBytes;
            for (int b = 0; b < cols / 256; b++) {
                long p = base + b * 176L;
                scalesAndMins(data, p, scale, min, 8 * b);
                for (int j = 0; j < 4; j++) {
                    for (int l = 0; l < 32; l += L) {
                        ByteVector v = Kernels.bytes(data, p + 48 + 32 * j + l);
                        ByteVector h = Kernels.bytes(data, p + 16 + l);
                        ByteVector h1 = h.lanewise(VectorOperators.LSHR, 2 * j).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                        ByteVector h2 = h.lanewise(VectorOperators.LSHR, 2 * j + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                        Kernels.toFloat(v.and((byte) 0xF).or(h1)).intoArray(q, 256 * b + 64 * j + l);
                        Kernels.toFloat(v.lanewise(VectorOperators.LSHR, 4).or(h2)).intoArray(q, 256 * b + 64 * j + 32 + l);
                    }
                }
            }
        }
    }

    /** Sub-block scales (d * sc) and negated mins (-dmin * m) of the super-block at p. */
    static void scalesAndMins(MemorySegment data, long p, float[] scale, float[] min, int o) {
        float d = Kernels.f16(data, p);
        float dmin = Kernels.f16(data, p + 2);
        for (int s = 0; s < 8; s++) {
            scale[o + s] = d * Kernels.scaleK4(data, p + 4, s);
            min[o + s] = -(dmin * Kernels.minK4(data, p + 4, s));
        }
    }

    /**
     * Q6_K: 128 bytes low 4 bits (ql), 64 bytes high 2 bits (qh), 16 int8 scales, fp16 d. Per half of 128 values:
     * element l = ql[l] low | qh[l] bits 0-1, l + 32 = ql[l + 32] low | bits 2-3, l + 64 = ql[l] high | bits 4-5,
     * l + 96 = ql[l + 32] high | bits 6-7; value = d * scale * (q - 32).
     */
    static final class Q6_K extends QuantizedMatrix {
        Q6_K(MemorySegment data, int rows, int cols) {
            super(GgmlType.Q6_K, data, rows, cols, 16, false);
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.Q8_K;
        }

        @Override
        protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
            long base = row * rowBytes;
            for (int b = 0; b < cols / 256; b++) {
                long p = base + b * 210L;
                float d = Kernels.f16(data, p + 208);
                for (int s = 0; s < 16; s++) {
                    scale[16 * b + s] = d * data.get(ValueLayout.JAVA_BYTE, p + 192 + s);
                }
                for (int h = 0; h < 2; h++) {
                    long ql = p + 64L * h;
                    long qh = p + 128 + 32L * h;
                    int o = 256 * b + 128 * h;
                    for (int l = 0; l < 32; l += L) {
                        ByteVector a = Kernels.bytes(data, ql + l);
                        ByteVector c = Kernels.bytes(data, ql + l + 32);
                        ByteVector hb = Kernels.bytes(data, qh + l);
                        Kernels.toFloat(a.and((byte) 0xF).or(hb.and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                                .sub((byte) 32)).intoArray(q, o + l);
                        Kernels.toFloat(c.and((byte) 0xF).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 3)
                                .lanewise(VectorOperators.LSHL, 4)).sub((byte) 32)).intoArray(q, o + l + 32);
                        Kernels.toFloat(a.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 4)
                                .and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32)).intoArray(q, o + l + 64);
                        Kernels.toFloat(c.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 6)
                                .lanewise(VectorOperators.LSHL, 4)).sub((byte) 32)).intoArray(q, o + l + 96);
                    }
                }
            }
        }
    }
}
