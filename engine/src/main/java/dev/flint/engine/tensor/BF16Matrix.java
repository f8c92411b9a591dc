package dev.flint.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.L;
import static dev.flint.engine.tensor.Kernels.SHORT;

/** BF16 weights: the top 16 bits of a float; activations rounded to BF16. */
final class BF16Matrix extends WeightMatrix {
    BF16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.BF16, data, rows, cols);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.BF16;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int off) {
        long base = row * rowBytes;
        for (int i = 0; i < cols; i++) {
            out[off + i] = Numerics.bf16ToFloat(data.get(SHORT, base + 2L * i));
        }
    }

    @Override
    protected float dot(int row, float[] x, int xo, float[] sums, int so) {
        long base = row * rowBytes;
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int bound = F.loopBound(cols); i < bound; i += L) {
            // the conversion written here, not in a helper returning a vector (boxed whenever C2 leaves it out of line)
            IntVector w = (IntVector) ShortVector.fromMemorySegment(Kernels.S, data, base + 2L * i, Kernels.LE)
                    .convertShape(VectorOperators.S2I, Kernels.I, 0);
            acc = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float[] lanes = Kernels.lanes();
        acc.intoArray(lanes, 0);
        float sum = Kernels.sumLanes(lanes);
        for (; i < cols; i++) {
            sum += Numerics.bf16ToFloat(data.get(SHORT, base + 2L * i)) * x[xo + i];
        }
        return sum;
    }
}
