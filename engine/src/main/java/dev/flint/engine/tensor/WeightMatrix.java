package dev.flint.engine.tensor;

import dev.flint.engine.ModelLoadException;

import java.lang.foreign.MemorySegment;

/**
 * A 2-D weight matrix of {@code rows} rows by {@code cols} columns stored row-major in a ggml type: a view over the
 * mapped model file, never a copy. Only the dot product of a row with an encoded activation row is specialised per
 * type; matrix products are built on it.
 */
public abstract class WeightMatrix {
    protected final GgmlType type;
    protected final MemorySegment data;
    protected final int rows;
    protected final int cols;
    protected final long rowBytes;

    protected WeightMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        this.type = type;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = type.bytesFor(cols);
        if (data.byteSize() < rowBytes * rows) {
            throw new ModelLoadException("tensor data of " + data.byteSize() + " bytes is too small for " + rows
                    + " x " + cols + " " + type);
        }
    }

    /** Wraps {@code data} as a matrix of the given type; fails with a clear message for unsupported types. */
    public static WeightMatrix of(GgmlType type, MemorySegment data, int rows, int cols) {
        return switch (type) {
            case F32 -> new F32Matrix(data, rows, cols);
            default -> throw new ModelLoadException("tensor type " + type + " is not supported; supported: "
                    + GgmlType.supportedNames());
        };
    }

    public GgmlType type() {
        return type;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public MemorySegment data() {
        return data;
    }

    /** The format this type's dot product reads its input in. */
    public abstract ActivationFormat activationFormat();

    /** Writes row {@code row} as floats to {@code out[off .. off + cols)}. */
    public abstract void dequantizeRow(int row, float[] out, int off);

    /** Dot product of row {@code row} with activation row {@code token} of {@code x}. */
    public abstract float dot(int row, Activations x, int token);

    /**
     * {@code out[t * outStride + r] = dot(r, x, t)} for rows r in [rowFrom, rowTo) and tokens t in [0, x.tokens()).
     * Subclasses override this to reuse each weight block across the tokens of a batch.
     */
    public void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        int n = x.tokens();
        for (int r = rowFrom; r < rowTo; r++) {
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = dot(r, x, t);
            }
        }
    }
}
