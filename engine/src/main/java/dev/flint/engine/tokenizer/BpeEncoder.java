package dev.flint.engine.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * Byte-level BPE (llama.cpp's llm_tokenizer_bpe_session): pre-tokenize into words, then within each word merge the
 * adjacent pair with the lowest merge rank (leftmost on ties) until no pair has a rank. Not thread-safe: it reuses
 * its buffers, so {@link Tokenizer} keeps one per thread.
 */
final class BpeEncoder {
    private final BpeMerges merges;
    private final Map<String, Integer> tokenIds;
    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;
    private final int[] bytePiece;
    private final int[] asciiToken;

    private final BigramHeap heap = new BigramHeap();
    private int[] cps = new int[64];
    private int[] starts = new int[65];
    private int[] symStart = new int[64];
    private int[] symLen = new int[64];
    private int[] symPiece = new int[64];
    private int[] symPrev = new int[64];
    private int[] symNext = new int[64];

    /** Cheap: shares the tables, owns only scratch buffers. */
    BpeEncoder(Map<String, Integer> tokenIds, BpeMerges merges, PreTokenizer preTokenizer, boolean ignoreMerges) {
        this.merges = merges;
        this.tokenIds = tokenIds;
        this.preTokenizer = preTokenizer;
        this.ignoreMerges = ignoreMerges;
        this.bytePiece = merges.bytePieces(tokenIds);
        this.asciiToken = merges.asciiTokens(tokenIds);
    }

    void encode(byte[] text, int from, int to, IntList out) {
        int len = to - from;
        if (cps.length < len) {
            cps = new int[len];
            starts = new int[len + 1];
        }
        int n = Utf8.decode(text, from, to, cps, starts);
        // malformed input: llama.cpp tokenizes the re-encoded text, where each bad byte became U+FFFD
        byte[] bytes = hasReplacement(n) ? reencode(n) : text;
        IntList words = preTokenizer.split(cps, n);
        int cp = 0;
        for (int w = 0; w < words.size(); w++) {
            int wordCps = words.get(w);
            encodeWord(bytes, starts[cp], starts[cp + wordCps], out);
            cp += wordCps;
        }
    }

    private boolean hasReplacement(int n) {
        for (int i = 0; i < n; i++) {
            if (cps[i] == 0xFFFD) {
                return true;
            }
        }
        return false;
    }

    /** Re-encodes the decoded text and points {@code starts} into the new bytes. */
    private byte[] reencode(int n) {
        byte[] out = new byte[n * 4];
        int pos = 0;
        for (int i = 0; i < n; i++) {
            starts[i] = pos;
            pos = Utf8.encode(cps[i], out, pos);
        }
        starts[n] = pos;
        return out;
    }

    private void encodeWord(byte[] b, int from, int to, IntList out) {
        int n = to - from;
        if (ignoreMerges) {
            Integer whole = tokenIds.get(ByteLevel.encode(b, from, to));
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        ensureSymbols(n);
        for (int i = 0; i < n; i++) {
            symStart[i] = from + i;
            symLen[i] = 1;
            symPiece[i] = bytePiece[b[from + i] & 0xFF];
            symPrev[i] = i - 1;
            symNext[i] = i + 1 < n ? i + 1 : -1;
        }
        heap.clear();
        for (int i = 1; i < n; i++) {
            offer(i - 1, i);
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
            symPiece[l] = merges.result((int) (heap.polledPriority >>> 32));
            symNext[l] = symNext[r];
            if (symNext[r] >= 0) {
                symPrev[symNext[r]] = l;
            }
            offer(symPrev[l], l);
            offer(l, symNext[l]);
        }
        for (int i = 0; i != -1 && n > 0; i = symNext[i]) {
            int piece = symPiece[i];
            if (merges.isToken(piece)) {
                out.add(piece);
            } else {
                emitBytesFallback(b, symStart[i], symStart[i] + symLen[i], out);
            }
        }
    }

    /** llama.cpp looks up each byte of the symbol's character form alone; only ASCII ones can be tokens. */
    private void emitBytesFallback(byte[] b, int from, int to, IntList out) {
        for (int i = from; i < to; i++) {
            char c = ByteLevel.charOf(b[i]);
            if (c < 128 && asciiToken[c] >= 0) {
                out.add(asciiToken[c]);
            }
        }
    }

    private void offer(int l, int r) {
        if (l < 0 || r < 0) {
            return;
        }
        int rank = merges.rank(symPiece[l], symPiece[r]);
        if (rank >= 0) {
            heap.push(((long) rank << 32) | l, l, r, symLen[l] + symLen[r]);
        }
    }

    private void ensureSymbols(int n) {
        if (symStart.length < n) {
            int cap = Math.max(n, symStart.length * 2);
            symStart = Arrays.copyOf(symStart, cap);
            symLen = Arrays.copyOf(symLen, cap);
            symPiece = Arrays.copyOf(symPiece, cap);
            symPrev = Arrays.copyOf(symPrev, cap);
            symNext = Arrays.copyOf(symNext, cap);
        }
    }
}
