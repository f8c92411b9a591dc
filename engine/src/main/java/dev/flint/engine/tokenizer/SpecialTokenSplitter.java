package dev.flint.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;

/**
 * Cuts special-token text out of the input before tokenization (llama.cpp's tokenizer_st_partition). Control and
 * unknown tokens are recognized only when parsing specials; user-defined tokens always are. Tokens are applied one at
 * a time, longest text first, each splitting the text fragments left by the previous ones at its non-overlapping
 * occurrences, leftmost first. A trie scan up front finds which tokens occur at all, so the usual case costs one
 * pass over the bytes.
 */
final class SpecialTokenSplitter {
    /** A piece of the input: a special token, or raw text {@code [offset, offset + length)} when token is -1. */
    record Fragment(int token, int offset, int length) {
        boolean isText() {
            return token < 0;
        }
    }

    private final int[] attrs;
    private final byte[][] text;
    /** Special ids, longest text first (ties by id; llama.cpp's sort leaves their order unspecified). */
    private final int[] order;
    private final int[] rankOf;
    private final ByteTrie trie;

    SpecialTokenSplitter(Vocabulary vocab) {
        this.attrs = new int[vocab.size()];
        int[] ids = IntStream.range(0, vocab.size()).filter(id -> {
            attrs[id] = vocab.attr(id);
            return (attrs[id] & (TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN)) != 0;
        }).toArray();
        this.text = new byte[vocab.size()][];
        for (int id : ids) {
            text[id] = vocab.token(id).getBytes(StandardCharsets.UTF_8);
        }
        this.order = Arrays.stream(ids).boxed()
                .sorted(Comparator.<Integer>comparingInt(id -> -text[id].length).thenComparingInt(id -> id))
                .mapToInt(Integer::intValue).toArray();
        this.rankOf = new int[vocab.size()];
        for (int r = 0; r < order.length; r++) {
            rankOf[order[r]] = r;
        }
        this.trie = new ByteTrie();
        for (int id : ids) {
            trie.insert(text[id], id);
        }
    }

    List<Fragment> split(byte[] input, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (input.length == 0) {
            return fragments;
        }
        fragments.add(new Fragment(-1, 0, input.length));
        boolean[] present = new boolean[order.length];
        IntPredicate mark = id -> {
            if (parseSpecial || (attrs[id] & (TokenAttr.CONTROL | TokenAttr.UNKNOWN)) == 0) {
                present[rankOf[id]] = true;
                return true;
            }
            return false;
        };
        boolean any = false;
        for (int pos = 0; pos < input.length; pos++) {
            any |= trie.markMatches(input, pos, mark);
        }
        if (!any) {
            return fragments;
        }
        for (int r = 0; r < order.length; r++) {
            if (present[r]) {
                fragments = splitAll(fragments, input, order[r]);
            }
        }
        return fragments;
    }

    private List<Fragment> splitAll(List<Fragment> fragments, byte[] input, int id) {
        List<Fragment> out = new ArrayList<>(fragments.size() + 4);
        byte[] t = text[id];
        for (Fragment f : fragments) {
            if (!f.isText()) {
                out.add(f);
                continue;
            }
            int from = f.offset();
            int end = f.offset() + f.length();
            while (true) {
                int match = indexOf(input, t, from, end);
                if (match < 0) {
                    if (end > from) {
                        out.add(new Fragment(-1, from, end - from));
                    }
                    break;
                }
                int leftEnd = match;
                if ((attrs[id] & TokenAttr.LSTRIP) != 0) {
                    while (leftEnd > from && isSpace(input[leftEnd - 1])) {
                        leftEnd--;
                    }
                }
                if (leftEnd > from) {
                    out.add(new Fragment(-1, from, leftEnd - from));
                }
                out.add(new Fragment(id, 0, 0));
                from = match + t.length;
                if ((attrs[id] & TokenAttr.RSTRIP) != 0) {
                    while (from < end && isSpace(input[from])) {
                        from++;
                    }
                }
            }
        }
        return out;
    }

    /** C's isspace in the "C" locale. */
    private static boolean isSpace(byte b) {
        return b == ' ' || (b >= '\t' && b <= '\r');
    }

    private static int indexOf(byte[] hay, byte[] needle, int from, int end) {
        int last = end - needle.length;
        byte first = needle[0];
        for (int i = from; i <= last; i++) {
            if (hay[i] == first && Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }
}
