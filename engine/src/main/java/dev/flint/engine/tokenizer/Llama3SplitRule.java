package dev.flint.engine.tokenizer;

import static dev.flint.engine.tokenizer.CodepointFlags.LETTER;
import static dev.flint.engine.tokenizer.CodepointFlags.NUMBER;
import static dev.flint.engine.tokenizer.CodepointFlags.WHITESPACE;

/**
 * Hand-written equivalent of Llama 3's pattern {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|
 * \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}, as llama.cpp substitutes it for the regex.
 */
final class Llama3SplitRule implements SplitRule {
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
            int end = match(t, pos, from, to);
            out.add(end - pos);
            pos = end;
        }
    }

    /** End of the token starting at {@code pos}; numbers longer than three digits are cut by the caller's loop. */
    private static int match(SplitText t, int pos, int from, int to) {
        int cp = t.cps[pos];
        int flags = t.flagsAt(pos, from, to);
        int c = contraction(t, pos, to);
        if (c > pos) {
            return c;
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (cp != '\r' && cp != '\n' && (flags & NUMBER) == 0
                && ((flags & LETTER) != 0 || (t.flagsAt(pos + 1, from, to) & LETTER) != 0)) {
            int end = pos + 1;
            while ((t.flagsAt(end, from, to) & LETTER) != 0) {
                end++;
            }
            return end;
        }
        // \p{N}{1,3}
        if ((flags & NUMBER) != 0) {
            int end = pos + 1;
            while (end - pos < 3 && (t.flagsAt(end, from, to) & NUMBER) != 0) {
                end++;
            }
            return end;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int lead = cp == ' ' ? t.flagsAt(pos + 1, from, to) : flags;
        if ((lead & (WHITESPACE | LETTER | NUMBER)) == 0) {
            int end = cp == ' ' ? pos + 1 : pos;
            int f = lead;
            while ((f & (WHITESPACE | LETTER | NUMBER)) == 0 && f != 0) {
                f = t.flagsAt(++end, from, to);
            }
            int c2 = t.cpAt(end, from, to);
            while (c2 == '\r' || c2 == '\n') {
                c2 = t.cpAt(++end, from, to);
            }
            return end;
        }
        int spaces = 0;
        int afterLastNewline = -1;
        while ((t.flagsAt(pos + spaces, from, to) & WHITESPACE) != 0) {
            int c2 = t.cps[pos + spaces];
            if (c2 == '\r' || c2 == '\n') {
                afterLastNewline = pos + spaces + 1;
            }
            spaces++;
        }
        if (afterLastNewline > 0) {
            return afterLastNewline; // \s*[\r\n]+
        }
        if (spaces > 1 && t.cpAt(pos + spaces, from, to) >= 0) {
            return pos + spaces - 1; // \s+(?!\S)
        }
        return spaces > 0 ? pos + spaces : pos + 1;
    }

    /** Like GPT-2's contractions, but the letters match in either case. */
    private static int contraction(SplitText t, int pos, int to) {
        if (t.cps[pos] != '\'' || pos + 1 >= to) {
            return pos;
        }
        int a = Character.toLowerCase(t.cps[pos + 1]);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return pos + 2;
        }
        if (pos + 2 < to) {
            int b = Character.toLowerCase(t.cps[pos + 2]);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return pos + 3;
            }
        }
        return pos;
    }
}
