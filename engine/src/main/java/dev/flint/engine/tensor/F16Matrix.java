package dev.flint.engine.tensor;

import java.lang.foreign.MemorySegment;

import static dev.flint.engine.tensor.Kernels.SHORT;

/** F16 weights (IEEE half); activations rounded to F16, products summed in float as ggml_vec_dot_f16 does. */
final class F16Matrix extends WeightMatrix {
    F16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F16, data, rows, cols);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.F16;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int off) {
        long base = row * rowBytes;
        for (int i = 0; i < cols; i++) {
            out[off + i] = Float.float16ToFloat(data.get(SHORT, base + 2L * i));
        }
    }

    @Override
    protected float dot(int row, float[] x, int xo, float[] sums, int so) {
        float[] w = scratchRow();
        dequantizeRow(row, w, 0);
        return floatDot(w, x, xo, cols);
    }
}
