package dev.flint.engine.kv;

/**
 * Keys and values of one sequence, per layer. Keys are position-major, {@code k[layer][pos * kvDim + i]}; values are
 * transposed, {@code v[layer][i * cells + pos]}, as llama.cpp lays out its V cache, so the weighted sum over
 * positions reads contiguous memory. Both are stored rounded to half precision, as llama.cpp's default F16 cache
 * holds them, so attention sees the same numbers.
 */
public final class KvCache {
    /** Cells are allocated in multiples of 32, as llama.cpp pads its context, so attention rows have its length. */
    public static final int PAD = 32;

    private final int layers;
    private final int capacity;
    private final int cells;
    private final int kvDim;
    final float[][] k;
    final float[][] v;

    public KvCache(int layers, int capacity, int kvDim) {
        this.layers = layers;
        this.capacity = capacity;
        this.cells = (capacity + PAD - 1) / PAD * PAD;
        this.kvDim = kvDim;
        this.k = new float[layers][];
        this.v = new float[layers][];
        for (int l = 0; l < layers; l++) {
            k[l] = new float[cells * kvDim];
            v[l] = new float[cells * kvDim];
        }
    }

    public int capacity() {
        return capacity;
    }

    /** Allocated cells (capacity rounded up to {@link #PAD}): the row stride of the transposed values. */
    public int cells() {
        return cells;
    }

    public int kvDim() {
        return kvDim;
    }

    public int layers() {
        return layers;
    }

    public float[] keys(int layer) {
        return k[layer];
    }

    /** Transposed: component i of position p is at {@code [i * cells() + p]}. */
    public float[] values(int layer) {
        return v[layer];
    }

    /** Bytes of memory held. */
    public long bytes() {
        return 2L * layers * cells * kvDim * Float.BYTES;
    }
}
