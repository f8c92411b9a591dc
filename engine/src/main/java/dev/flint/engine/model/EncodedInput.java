package dev.flint.engine.model;

import dev.flint.engine.parallel.WorkerPool;
import dev.flint.engine.tensor.ActivationFormat;
import dev.flint.engine.tensor.Activations;

import java.util.EnumMap;

/**
 * One matrix-product input (say, the normed hidden state that feeds Q, K and V), encoded lazily once per
 * {@link ActivationFormat}: when Q, K and V share a weight type the input is quantized once, and a mixed-type file
 * (Q4_K_M keeps some matrices in Q6_K) still gets each format only once.
 */
final class EncodedInput {
    private final int cols;
    private final int capacity;
    private final EnumMap<ActivationFormat, Activations> byFormat = new EnumMap<>(ActivationFormat.class);
    private final EnumMap<ActivationFormat, Boolean> fresh = new EnumMap<>(ActivationFormat.class);
    private float[] src;
    private int stride;
    private int n;

    EncodedInput(int cols, int capacity) {
        this.cols = cols;
        this.capacity = capacity;
    }

    /** Points at new input rows; encodings are made on first use. */
    void reset(float[] x, int stride, int n) {
        this.src = x;
        this.stride = stride;
        this.n = n;
        fresh.clear();
    }

    /** The input in {@code format}, encoded on first use with {@code pool}'s threads. */
    Activations get(ActivationFormat format, WorkerPool pool) {
        Activations a = byFormat.get(format); // not computeIfAbsent: its capturing lambda allocated on every call
        if (a == null) {
            a = new Activations(format, capacity, cols);
            byFormat.put(format, a);
        }
        if (fresh.putIfAbsent(format, Boolean.TRUE) == null) {
            a.set(src, stride, n, pool);
        }
        return a;
    }
}
