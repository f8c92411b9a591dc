package dev.flint.engine.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.FLOAT;
import static dev.flint.engine.tensor.Kernels.L;
import static dev.flint.engine.tensor.Kernels.LE;

/** F32 weights: plain little-endian floats; activations stay F32. */
final class F32Matrix extends WeightMatrix {
    F32Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F32, data, rows, cols);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.F32;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int off) {
        MemorySegment.copy(data, FLOAT, row * rowBytes, out, off, cols);
    }

    @Override
    protected float dot(int row, float[] x, int xo, float[] sums, int so) {
        long base = row * rowBytes;
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int bound = F.loopBound(cols); i < bound; i += L) {
            acc = FloatVector.fromMemorySegment(F, data, base + 4L * i, LE).fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float[] lanes = Kernels.lanes();
        acc.intoArray(lanes, 0);
        float sum = Kernels.sumLanes(lanes);
        for (; i < cols; i++) {
            sum += data.get(FLOAT, base + 4L * i) * x[xo + i];
        }
        return sum;
    }
}
