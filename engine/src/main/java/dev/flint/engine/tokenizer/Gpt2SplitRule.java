package dev.flint.engine.tokenizer;

import static dev.flint.engine.tokenizer.CodepointFlags.LETTER;
import static dev.flint.engine.tokenizer.CodepointFlags.NUMBER;
import static dev.flint.engine.tokenizer.CodepointFlags.WHITESPACE;

/**
 * Hand-written equivalent of GPT-2's pattern
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}, as llama.cpp substitutes it
 * for the regex. Unlike the regex fallback, a character matched by no branch becomes a segment of its own.
 */
final class Gpt2SplitRule implements SplitRule {
    @Override
    public void split(SplitText t, IntList segments, IntList out) {
        int start = 0;
        for (int s = 0; s < segments.size(); s++) {
            int end = start + segments.get(s);
            splitSegment(t, start, end, out);
            start = end;
        }
    }

    private static void splitSegment(SplitText t, int from, int to, IntList out) {
        int pos = from;
        while (pos < to) {
            int cp = t.cps[pos];
            int next = contraction(t, pos, from, to);
            if (next > pos) {
                out.add(next - pos);
                pos = next;
                continue;
            }
            // an optional leading space belongs to the word, number or symbol run after it
            int lead = cp == ' ' ? t.flagsAt(pos + 1, from, to) : t.flagsAt(pos, from, to);
            int kind = (lead & LETTER) != 0 ? LETTER : (lead & NUMBER) != 0 ? NUMBER
                    : (lead & (WHITESPACE | LETTER | NUMBER)) == 0 && lead != 0 ? -1 : 0;
            if (kind != 0) {
                int end = cp == ' ' ? pos + 1 : pos;
                while (sameKind(kind, t.flagsAt(end, from, to))) {
                    end++;
                }
                out.add(end - pos);
                pos = end;
                continue;
            }
            int spaces = 0;
            while ((t.flagsAt(pos + spaces, from, to) & WHITESPACE) != 0) {
                spaces++;
            }
            if (spaces > 1 && t.cpAt(pos + spaces, from, to) >= 0) {
                // \s+(?!\S): leave the last space to prefix the following word
                out.add(spaces - 1);
                pos += spaces - 1;
            } else if (spaces > 0) {
                out.add(spaces);
                pos += spaces;
            } else {
                out.add(1);
                pos++;
            }
        }
    }

    private static boolean sameKind(int kind, int flags) {
        return kind == -1 ? (flags & (WHITESPACE | LETTER | NUMBER)) == 0 && flags != 0 : (flags & kind) != 0;
    }

    /** End of a case-sensitive contraction ('s 't 'm 'd 're 've 'll) at {@code pos}, or {@code pos} if none. */
    static int contraction(SplitText t, int pos, int from, int to) {
        if (t.cps[pos] != '\'' || pos + 1 >= to) {
            return pos;
        }
        int a = t.cps[pos + 1];
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return pos + 2;
        }
        if (pos + 2 < to) {
            int b = t.cps[pos + 2];
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return pos + 3;
            }
        }
        return pos;
    }
}
