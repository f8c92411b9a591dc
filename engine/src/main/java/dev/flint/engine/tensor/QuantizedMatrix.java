package dev.flint.engine.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The block-quantized types. Each type says how to decode a row into small integers (as floats), one scale per group
 * of {@link #group} values and, for types with block minimums, one minimum per group (used to dequantize rows, such as
 * token embeddings), and brings its own products: {@code LegacyQuants.Q8_0}, {@link RowGroupMatrix} (Q4_0, Q4_1,
 * Q5_0, Q5_1) and the K-quants ({@code KQuants}). Against 8-bit activations (integers too) the per-group sums of
 * products are exact in float, so each only has to fix the order of its float operations.
 */
abstract class QuantizedMatrix extends WeightMatrix {
    /** Values per scale: 32, or 16 for Q6_K. */
    protected final int group;
    private final boolean hasMin;
    /** A decoded row for {@link #dequantizeRow}: created only on the threads that dequantize this matrix. */
    private final ThreadLocal<float[][]> decoded;
    /** Batches up to this size run the single-token kernels per token (measured: from 4 tokens on, the tiles win). */
    static final int SMALL_BATCH = 3;

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

    /** One token's product with row {@code row}: every type has its own kernels. */
    @Override
    public abstract float dot(int row, Activations x, int token);

    /** Rows [rowFrom, rowTo) times every token of x: every type has its own kernels. */
    @Override
    public abstract void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo);
}
