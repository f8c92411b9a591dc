package dev.flint.engine.tokenizer;

import dev.flint.engine.ModelLoadException;

import java.util.HashMap;
import java.util.Map;

/**
 * The merge table of a byte-level BPE vocabulary. Every string that takes part in a merge gets a piece id (its
 * token id when it is a token, a fresh id above the vocabulary otherwise), so merging compares ints, not strings.
 */
final class BpeMerges {
    private final LongIntMap ranks;
    /** Piece id produced by the merge of each rank. */
    private final int[] results;
    private final Map<String, Integer> extraPieces = new HashMap<>();
    private final int tokenCount;
    // lazily built lookup tables; a benign race may build them twice
    private volatile int[] bytePieces;
    private volatile int[] asciiTokens;

    BpeMerges(String[] merges, Map<String, Integer> tokenIds, int tokenCount) {
        this.tokenCount = tokenCount;
        this.ranks = new LongIntMap(merges.length);
        this.results = new int[merges.length];
        for (int rank = 0; rank < merges.length; rank++) {
            String merge = merges[rank];
            int space = merge.indexOf(' ', 1); // from 1: a merge may start with a literal space
            if (space < 0) {
                results[rank] = -1;
                continue; // llama.cpp files this under ("", ""), which no symbol pair can match
            }
            String left = merge.substring(0, space);
            String right = merge.substring(space + 1);
            int l = pieceId(left, tokenIds, true);
            int r = pieceId(right, tokenIds, true);
            if (ranks.putIfAbsent(pairKey(l, r), rank)) {
                results[rank] = pieceId(left + right, tokenIds, true);
            }
        }
        if (extraPieces.size() > Integer.MAX_VALUE - tokenCount) {
            throw new ModelLoadException("too many BPE merge pieces");
        }
    }

    private int pieceId(String s, Map<String, Integer> tokenIds, boolean create) {
        Integer id = tokenIds.get(s);
        if (id != null) {
            return id;
        }
        Integer extra = extraPieces.get(s);
        if (extra == null && create) {
            extra = tokenCount + extraPieces.size();
            extraPieces.put(s, extra);
        }
        return extra == null ? -1 : extra;
    }

    /** Piece id of a string that is not necessarily a token, or -1 if it never takes part in a merge. */
    int pieceOf(String s, Map<String, Integer> tokenIds) {
        return pieceId(s, tokenIds, false);
    }

    private static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** Rank of merging {@code left} and {@code right}, or -1. */
    int rank(int left, int right) {
        return left < 0 || right < 0 ? -1 : ranks.get(pairKey(left, right), -1);
    }

    /** Piece id of the result of the merge with this rank. */
    int result(int rank) {
        return results[rank];
    }

    /** Piece id of each byte's one-character form, -1 if absent; computed once. */
    int[] bytePieces(Map<String, Integer> tokenIds) {
        int[] t = bytePieces;
        if (t == null) {
            t = new int[256];
            for (int b = 0; b < 256; b++) {
                t[b] = pieceOf(String.valueOf(ByteLevel.charOf(b)), tokenIds);
            }
            bytePieces = t;
        }
        return t;
    }

    /** Token of each ASCII character as a one-byte string (llama.cpp's last-resort lookup), -1 if absent. */
    int[] asciiTokens(Map<String, Integer> tokenIds) {
        int[] t = asciiTokens;
        if (t == null) {
            t = new int[128];
            for (int c = 0; c < 128; c++) {
                t[c] = tokenIds.getOrDefault(String.valueOf((char) c), -1);
            }
            asciiTokens = t;
        }
        return t;
    }

    int count() {
        return results.length;
    }

    boolean isToken(int piece) {
        return piece >= 0 && piece < tokenCount;
    }
}
