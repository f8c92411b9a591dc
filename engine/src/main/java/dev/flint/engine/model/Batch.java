package dev.flint.engine.model;

import dev.flint.engine.kv.KvCache;

import java.util.Arrays;

/**
 * Tokens to evaluate in one forward pass, each with the sequence (KV cache) and position it belongs to and whether
 * its logits are needed. Reusable: {@link #clear()} and add again, no allocation once grown.
 */
public final class Batch {
    private int[] tokens = new int[16];
    private int[] positions = new int[16];
    private KvCache[] caches = new KvCache[16];
    private boolean[] logits = new boolean[16];
    private int size;
    private int logitCount;

    public Batch clear() {
        Arrays.fill(caches, 0, size, null);
        size = 0;
        logitCount = 0;
        return this;
    }

    public Batch add(int token, int position, KvCache cache, boolean wantLogits) {
        if (size == tokens.length) {
            int n = size * 2;
            tokens = Arrays.copyOf(tokens, n);
            positions = Arrays.copyOf(positions, n);
            caches = Arrays.copyOf(caches, n);
            logits = Arrays.copyOf(logits, n);
        }
        tokens[size] = token;
        positions[size] = position;
        caches[size] = cache;
        logits[size] = wantLogits;
        size++;
        if (wantLogits) {
            logitCount++;
        }
        return this;
    }

    public int size() {
        return size;
    }

    public int token(int i) {
        return tokens[i];
    }

    public int position(int i) {
        return positions[i];
    }

    public KvCache cache(int i) {
        return caches[i];
    }

    public boolean wantsLogits(int i) {
        return logits[i];
    }

    /** How many tokens asked for logits. */
    public int logitCount() {
        return logitCount;
    }
}
