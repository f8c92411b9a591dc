package dev.flint.engine.gguf;

import dev.flint.engine.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its name, ggml type, shape (ggml order: {@code shape[0]} is the innermost, contiguous
 * dimension) and its bytes, a view over the mapped file rather than a copy.
 */
public record GgufTensor(String name, GgmlType type, long[] shape, long fileOffset, MemorySegment data) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Size of dimension {@code i}, 1 beyond the tensor's rank (as ggml treats missing dimensions). */
    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
