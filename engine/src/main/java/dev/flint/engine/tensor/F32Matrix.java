package dev.flint.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32 weights: plain little-endian floats; activations stay F32. */
final class F32Matrix extends WeightMatrix {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F32Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F32, data, rows, cols);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.F32;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int off) {
        MemorySegment.copy(data, F, row * rowBytes, out, off, cols);
    }

    @Override
    public float dot(int row, Activations x, int token) {
        long base = row * rowBytes;
        float[] a = x.f;
        int ao = token * cols;
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        int bound = S.loopBound(cols);
        for (; i < bound; i += S.length()) {
            FloatVector w = FloatVector.fromMemorySegment(S, data, base + 4L * i, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(S, a, ao + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
            sum += data.get(F, base + 4L * i) * a[ao + i];
        }
        return sum;
    }
}
