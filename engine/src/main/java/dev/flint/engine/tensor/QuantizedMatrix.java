package dev.flint.engine.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * The block-quantized types. Each type only says how to decode a row into small integers (as floats), one scale per
 * group of {@link #group} values, and, for types with block minimums, one minimum per group; the products are shared.
 * Against 8-bit activations (integers too) the per-group sums of products are exact in float, so a row's dot product
 * is llama.cpp's: {@code sum over groups of (scale * d_x) * isum + min * xsum}. A row is decoded once and reused for
 * every token of a batch.
 */
abstract class QuantizedMatrix extends WeightMatrix {
    /** Values per scale: 32, or 16 for Q6_K. */
    protected final int group;
    private final boolean hasMin;
    private final ThreadLocal<float[][]> decoded;

    QuantizedMatrix(GgmlType type, MemorySegment data, int rows, int cols, int group, boolean hasMin) {
        super(type, data, rows, cols);
        this.group = group;
        this.hasMin = hasMin;
        this.decoded = ThreadLocal.withInitial(() -> new float[][] {
                new float[cols], new float[cols / group], new float[hasMin ? cols / group : 0]});
    }

    /** Writes row {@code row}'s integers to q, each group's scale to scale and (if any) its minimum to min. */
    protected abstract void decodeRow(int row, float[] q, float[] scale, float[] min);

    @Override
    public void dequantizeRow(int row, float[] out, int off) {
        float[][] b = decoded.get();
        decodeRow(row, b[0], b[1], b[2]);
        for (int i = 0; i < cols; i++) {
            int g = i / group;
            out[off + i] = b[1][g] * b[0][i] + (hasMin ? b[2][g] : 0f);
        }
    }

    @Override
    protected float dot(int row, float[] x, int xo, float[] sums, int so) {
        throw new UnsupportedOperationException("quantized rows are multiplied through matmul");
    }

    @Override
    public float dot(int row, Activations x, int token) {
        float[][] b = decoded.get();
        decodeRow(row, b[0], b[1], b[2]);
        return dotDecoded(b, x, token);
    }

    /**
     * A single-token dot product straight from the mapped bytes, without decoding the row to memory first (decode
     * steps are memory bound). Returns NaN where a type has no such kernel. Must perform the same float operations
     * in the same order as the decoded path, so results do not depend on the batch size.
     */
    protected float fusedDot(int row, Activations x) {
        return Float.NaN;
    }

    @Override
    public void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        int n = x.tokens();
        if (n == 1) {
            float first = fusedDot(rowFrom, x);
            if (!Float.isNaN(first)) {
                out[rowFrom] = first;
                for (int r = rowFrom + 1; r < rowTo; r++) {
                    out[r] = fusedDot(r, x);
                }
                return;
            }
        }
        float[][] b = decoded.get();
        for (int r = rowFrom; r < rowTo; r++) {
            decodeRow(r, b[0], b[1], b[2]);
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = dotDecoded(b, x, t);
            }
        }
    }

    private float dotDecoded(float[][] b, Activations x, int t) {
        float[] q = b[0];
        float[] scale = b[1];
        float[] xq = x.f;
        float[] xd = x.d;
        int xo = t * cols;
        int go = t * (cols / 32);
        FloatVector acc = FloatVector.zero(F);
        int groups = cols / group;
        int perD = 32 / group; // groups per activation scale
        if (type == GgmlType.Q8_0) {
            // llama.cpp's Q8_0 products come out as products of dequantized values, not scaled integer sums
            for (int g = 0; g < groups; g++) {
                int base = g * group;
                FloatVector sv = FloatVector.broadcast(F, scale[g]);
                FloatVector dv = FloatVector.broadcast(F, xd[go + g / perD]);
                for (int i = 0; i < group; i += L) {
                    acc = FloatVector.fromArray(F, q, base + i).mul(sv)
                            .fma(FloatVector.fromArray(F, xq, xo + base + i).mul(dv), acc);
                }
            }
            return Kernels.sumLanes(acc);
        }
        for (int g = 0; g < groups; g++) {
            int base = g * group;
            FloatVector p = FloatVector.zero(F);
            for (int i = 0; i < group; i += L) {
                p = FloatVector.fromArray(F, q, base + i).fma(FloatVector.fromArray(F, xq, xo + base + i), p);
            }
            acc = p.fma(FloatVector.broadcast(F, scale[g] * xd[go + g / perD]), acc);
        }
        float sum = Kernels.sumLanes(acc);
        if (hasMin) {
            float[] min = b[2];
            float[] xs = x.xsum;
            float m = 0f;
            for (int g = 0; g < groups; g++) {
                m += min[g] * xs[go + g];
            }
            sum += m;
        }
        return sum;
    }
}
