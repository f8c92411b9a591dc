package dev.flint.engine.tensor;

import dev.flint.engine.ModelLoadException;
import jdk.incubator.vector.FloatVector;

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
    private final ThreadLocal<float[]> rowBuffer;

    protected WeightMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        this.type = type;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        if (cols % type.blockSize != 0) {
            throw new ModelLoadException("row length " + cols + " is not a multiple of the " + type + " block size "
                    + type.blockSize);
        }
        this.rowBytes = type.bytesFor(cols);
        if (data.byteSize() < rowBytes * rows) {
            throw new ModelLoadException("tensor data of " + data.byteSize() + " bytes is too small for " + rows
                    + " x " + cols + " " + type);
        }
        this.rowBuffer = ThreadLocal.withInitial(() -> new float[cols]);
    }

    /** Wraps {@code data} as a matrix of the given type; fails with a clear message for unsupported types. */
    public static WeightMatrix of(GgmlType type, MemorySegment data, int rows, int cols) {
        return of(type, data, rows, cols, true);
    }

    /**
     * {@link #of(GgmlType, MemorySegment, int, int)}; with {@code products} false the matrix is only read row by row
     * ({@link #dequantizeRow}: the token embeddings of a model with its own output matrix), so the types that repack
     * their rows for products at load (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and the K-quants with 16-lane vectors) do not.
     */
    public static WeightMatrix of(GgmlType type, MemorySegment data, int rows, int cols, boolean products) {
        return switch (type) {
            case F32 -> new F32Matrix(data, rows, cols);
            case F16 -> new F16Matrix(data, rows, cols);
            case BF16 -> new BF16Matrix(data, rows, cols);
            case Q8_0 -> new LegacyQuants.Q8_0(data, rows, cols, products);
            case Q4_0, Q4_1 -> new Q4Matrix(type, data, rows, cols, products);
            case Q5_0, Q5_1 -> new Q5Matrix(type, data, rows, cols, products);
            case Q4_K -> new KQuants.Q4_K(data, rows, cols, products);
            case Q5_K -> new KQuants.Q5_K(data, rows, cols, products);
            case Q6_K -> new KQuants.Q6_K(data, rows, cols, products);
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

    /**
     * Whether products read a copy of the rows repacked at load into native memory rather than {@link #data()}
     * (which they then read only for rows outside whole groups; row lookups still read it).
     */
    public boolean repacked() {
        return false;
    }

    /** The format this type's dot product reads its input in. */
    public abstract ActivationFormat activationFormat();

    /** Writes row {@code row} as floats to {@code out[off .. off + cols)}. */
    public abstract void dequantizeRow(int row, float[] out, int off);

    /**
     * Dot product of row {@code row} with the encoded activation values {@code x[xo .. xo + cols)}; {@code sums}
     * from {@code so} are their per-32 sums (read by types with block minimums).
     */
    protected abstract float dot(int row, float[] x, int xo, float[] sums, int so);

    /** Dot product of row {@code row} with activation row {@code token} of {@code x}. */
    public float dot(int row, Activations x, int token) {
        return dot(row, x.f, token * cols, x.xsum, token * (cols / 32));
    }

    /**
     * {@code out[t * outStride + r] = dot(r, x, t)} for rows r in [rowFrom, rowTo) and tokens t in [0, x.tokens()).
     * For a batch, each row is decoded once into a float buffer and reused for every token.
     */
    public void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        int n = x.tokens();
        if (n == 1) {
            for (int r = rowFrom; r < rowTo; r++) {
                out[r] = dot(r, x.f, 0, x.xsum, 0);
            }
            return;
        }
        float[] w = rowBuffer.get();
        for (int r = rowFrom; r < rowTo; r++) {
            dequantizeRow(r, w, 0);
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = floatDot(w, x.f, t * cols, cols);
            }
        }
    }

    /** A per-thread buffer of one row, for kernels that decode a row before using it. */
    protected float[] scratchRow() {
        return rowBuffer.get();
    }

    static float floatDot(float[] w, float[] x, int xo, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(Kernels.F);
        for (int bound = Kernels.F.loopBound(n); i < bound; i += Kernels.L) {
            acc = FloatVector.fromArray(Kernels.F, w, i).fma(FloatVector.fromArray(Kernels.F, x, xo + i), acc);
        }
        float[] lanes = Kernels.lanes();
        acc.intoArray(lanes, 0);
        float sum = Kernels.sumLanes(lanes);
        for (; i < n; i++) {
            sum += w[i] * x[xo + i];
        }
        return sum;
    }
}
