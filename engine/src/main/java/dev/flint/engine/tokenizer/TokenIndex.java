package dev.flint.engine.tokenizer;

import java.util.Arrays;

/**
 * Finds a token by its UTF-8 bytes given as a slice of a larger array, so that SentencePiece merging can test every
 * candidate pair without building strings.
 */
final class TokenIndex {
    private final byte[][] tokenBytes;
    private final int[] table;
    private final int mask;

    TokenIndex(byte[][] tokenBytes) {
        this.tokenBytes = tokenBytes;
        int cap = Integer.highestOneBit(Math.max(4, tokenBytes.length * 2 - 1)) << 1;
        table = new int[cap];
        mask = cap - 1;
        Arrays.fill(table, -1);
        for (int id = 0; id < tokenBytes.length; id++) {
            byte[] t = tokenBytes[id];
            int i = hash(t, 0, t.length) & mask;
            while (table[i] >= 0) {
                if (Arrays.equals(tokenBytes[table[i]], t)) {
                    break; // duplicate text: the later id wins, as in llama.cpp's token_to_id
                }
                i = (i + 1) & mask;
            }
            table[i] = id;
        }
    }

    private static int hash(byte[] b, int from, int len) {
        int h = 0x811C9DC5;
        for (int i = from; i < from + len; i++) {
            h = (h ^ b[i]) * 0x01000193;
        }
        return h ^ (h >>> 15);
    }

    /** The token whose bytes equal {@code b[from, from + len)}, or -1. */
    int find(byte[] b, int from, int len) {
        int i = hash(b, from, len) & mask;
        int id;
        while ((id = table[i]) >= 0) {
            byte[] t = tokenBytes[id];
            if (t.length == len && Arrays.equals(t, 0, len, b, from, from + len)) {
                return id;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }
}
