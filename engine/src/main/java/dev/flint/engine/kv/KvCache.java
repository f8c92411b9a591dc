package dev.flint.engine.kv;

/**
 * Keys and values of one sequence, per layer, position-major: {@code k[layer][pos * kvDim + i]}. Values are stored
 * rounded to half precision, as llama.cpp's default F16 cache holds them, so attention sees the same numbers.
 */
public final class KvCache {
    private final int layers;
    private final int capacity;
    private final int kvDim;
    final float[][] k;
    final float[][] v;

    public KvCache(int layers, int capacity, int kvDim) {
        this.layers = layers;
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.k = new float[layers][];
        this.v = new float[layers][];
        for (int l = 0; l < layers; l++) {
            k[l] = new float[capacity * kvDim];
            v[l] = new float[capacity * kvDim];
        }
    }

    public int capacity() {
        return capacity;
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

    public float[] values(int layer) {
        return v[layer];
    }

    /** Bytes of memory held. */
    public long bytes() {
        return 2L * layers * capacity * kvDim * Float.BYTES;
    }
}
