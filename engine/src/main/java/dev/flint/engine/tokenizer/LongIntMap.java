package dev.flint.engine.tokenizer;

import java.util.Arrays;

/** Open-addressing map from non-negative long keys to ints: the BPE pair table without boxing. */
final class LongIntMap {
    private static final long EMPTY = -1;
    private final long[] keys;
    private final int[] values;
    private final int mask;
    private int size;

    LongIntMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new int[cap];
        mask = cap - 1;
        Arrays.fill(keys, EMPTY);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    /** Stores {@code value} unless {@code key} is present (the first merge of a pair wins, as in llama.cpp). */
    boolean putIfAbsent(long key, int value) {
        if (size * 2 >= keys.length) {
            throw new IllegalStateException("LongIntMap is full");
        }
        int i = slot(key);
        while (keys[i] != EMPTY) {
            if (keys[i] == key) {
                return false;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
        return true;
    }

    int get(long key, int missing) {
        int i = slot(key);
        long k;
        while ((k = keys[i]) != EMPTY) {
            if (k == key) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return missing;
    }
}
