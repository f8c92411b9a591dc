package dev.flint.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Vector species and little-endian accessors shared by the weight kernels. */
final class Kernels {
    private Kernels() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** L bytes, widened lane by lane to L floats or ints. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final IntVector IOTA = (IntVector) I.iotaShuffle(0, 1, false).toVector();

    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT, off));
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    static ByteVector bytes(MemorySegment s, long off) {
        return ByteVector.fromMemorySegment(B, s, off, LE);
    }

    /** L bytes zero-extended to L ints (byte-lane shifts have no x86 instruction: the JIT emulates them). */
    static IntVector unsignedInts(MemorySegment s, long off) {
        return (IntVector) ByteVector.fromMemorySegment(B, s, off, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
    }

    static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    static FloatVector toFloat(ByteVector v) {
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    /** This thread's array of L floats, for {@link #sumLanes}. */
    static float[] lanes() {
        return LANES.get();
    }

    /**
     * Sum of the lanes, stored by the caller at {@code a}, in lane order. reduceLanes(ADD) leaves the order open (the
     * JIT's tree and the interpreter's loop round differently); a fixed order keeps results identical from the first
     * call to the compiled code. It takes the stored lanes, not the vector: a vector passed to a call C2 does not
     * inline is boxed (DecodeAllocationTest caught that here, in some JVM runs).
     */
    static float sumLanes(float[] a) {
        float s = 0f;
        for (int i = 0; i < L; i++) {
            s += a[i];
        }
        return s;
    }

    /** K-quant 6-bit scale and min of sub-block j from the 12 packed bytes at {@code q}: {scale, min}. */
    static int scaleK4(MemorySegment s, long q, int j) {
        if (j < 4) {
            return u8(s, q + j) & 63;
        }
        return (u8(s, q + j + 4) & 0xF) | ((u8(s, q + j - 4) >> 6) << 4);
    }

    static int minK4(MemorySegment s, long q, int j) {
        if (j < 4) {
            return u8(s, q + j + 4) & 63;
        }
        return (u8(s, q + j + 4) >> 4) | ((u8(s, q + j) >> 6) << 4);
    }
}
