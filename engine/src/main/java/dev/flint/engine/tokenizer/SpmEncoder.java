package dev.flint.engine.tokenizer;

import java.util.Arrays;

/**
 * SentencePiece-style BPE (llama.cpp's llm_tokenizer_spm_session): start from UTF-8 characters and repeatedly merge
 * the adjacent pair whose concatenation is the token with the highest score (leftmost on ties). Characters that end
 * up in no token are written as byte tokens {@code <0xXX>}. Not thread-safe: it reuses its buffers.
 */
final class SpmEncoder {
    private final TokenIndex index;
    private final float[] scores;
    private final int[] byteTokens;

    private final BigramHeap heap = new BigramHeap();
    private int[] symStart = new int[64];
    private int[] symLen = new int[64];
    private int[] symPrev = new int[64];
    private int[] symNext = new int[64];

    SpmEncoder(TokenIndex index, float[] scores, int[] byteTokens) {
        this.index = index;
        this.scores = scores;
        this.byteTokens = byteTokens;
    }

    /** Tokenizes {@code text[0, len)}, which must already have spaces escaped as U+2581. */
    void encode(byte[] text, int len, IntList out) {
        int n = 0;
        for (int off = 0; off < len; n++) {
            ensureSymbols(n + 1);
            int charLen = Math.min(Utf8.sequenceLength(text[off]), len - off);
            symStart[n] = off;
            symLen[n] = charLen;
            symPrev[n] = n - 1;
            off += charLen;
            symNext[n] = off == len ? -1 : n + 1;
        }
        heap.clear();
        for (int i = 1; i < n; i++) {
            offer(text, i - 1, i);
        }
        while (!heap.isEmpty()) {
            heap.poll();
            int l = heap.polledLeft;
            int r = heap.polledRight;
            if (symLen[l] == 0 || symLen[r] == 0 || symLen[l] + symLen[r] != heap.polledSize) {
                continue; // one side changed since this pair was queued
            }
            symLen[l] += symLen[r];
            symLen[r] = 0;
            symNext[l] = symNext[r];
            if (symNext[r] >= 0) {
                symPrev[symNext[r]] = l;
            }
            offer(text, symPrev[l], l);
            offer(text, l, symNext[l]);
        }
        for (int i = 0; i != -1 && n > 0; i = symNext[i]) {
            int id = index.find(text, symStart[i], symLen[i]);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            // only unmerged characters get here: every merge produced a token
            for (int k = symStart[i]; k < symStart[i] + symLen[i]; k++) {
                out.add(byteTokens[text[k] & 0xFF]);
            }
        }
    }

    private void offer(byte[] text, int l, int r) {
        if (l < 0 || r < 0) {
            return;
        }
        int size = symLen[l] + symLen[r];
        int id = index.find(text, symStart[l], size);
        if (id < 0 || id >= scores.length) {
            return;
        }
        heap.push(priority(scores[id], l), l, r, size);
    }

    /** Higher score first, then lower left index: one long where smaller means sooner. */
    private static long priority(float score, int left) {
        int bits = Float.floatToIntBits(score == 0f ? 0f : score); // -0.0 ties with 0.0, as a float compare does
        int ascending = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ((long) ~ascending << 32) | left;
    }

    private void ensureSymbols(int n) {
        if (symStart.length < n) {
            int cap = Math.max(n, symStart.length * 2);
            symStart = Arrays.copyOf(symStart, cap);
            symLen = Arrays.copyOf(symLen, cap);
            symPrev = Arrays.copyOf(symPrev, cap);
            symNext = Arrays.copyOf(symNext, cap);
        }
    }
}
