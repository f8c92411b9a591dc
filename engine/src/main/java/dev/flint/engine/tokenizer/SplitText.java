package dev.flint.engine.tokenizer;

/**
 * Text being pre-tokenized, as code points, with the two derived views llama.cpp's regex fallback matches against.
 * Both views are built lazily, once per text, and shared by all rules.
 */
final class SplitText {
    /** Stand-ins for non-ASCII code points in the collapsed view, one per category; as in llama.cpp's trick. */
    static final char OTHER = '\u00D0';
    static final char NUMBER = '\u00D1';
    static final char LETTER = '\u00D2';
    static final char PUNCTUATION = '\u00D3';
    static final char MARK = '\u00D4';
    static final char SYMBOL = '\u00D5';

    final int[] cps;
    final int length;
    private String collapsed;
    private String wide;
    private int[] cpToChar;
    private int[] charToCp;

    SplitText(int[] cps, int length) {
        this.cps = cps;
        this.length = length;
    }

    /**
     * One char per code point: ASCII kept, other whitespace as U+000B, everything else as its category's stand-in,
     * so that a regex over ASCII classes plus stand-ins behaves like one over Unicode categories.
     */
    String collapsed() {
        if (collapsed == null) {
            char[] c = new char[length];
            for (int i = 0; i < length; i++) {
                int cp = cps[i];
                if (cp < 128) {
                    c[i] = (char) cp;
                    continue;
                }
                int flags = CodepointFlags.of(cp);
                c[i] = (flags & CodepointFlags.WHITESPACE) != 0 ? '\u000B' : switch (flags & 0xFF) {
                    case CodepointFlags.NUMBER -> NUMBER;
                    case CodepointFlags.LETTER -> LETTER;
                    case CodepointFlags.PUNCTUATION -> PUNCTUATION;
                    case CodepointFlags.MARK -> MARK;
                    case CodepointFlags.SYMBOL -> SYMBOL;
                    default -> OTHER;
                };
            }
            collapsed = new String(c);
        }
        return collapsed;
    }

    /** The text itself, except that non-ASCII whitespace reads as U+000B (llama.cpp's std::wregex sees only ASCII \s). */
    String wide() {
        if (wide == null) {
            StringBuilder sb = new StringBuilder(length + 8);
            cpToChar = new int[length + 1];
            boolean supplementary = false;
            for (int i = 0; i < length; i++) {
                int cp = cps[i];
                cpToChar[i] = sb.length();
                if (cp >= 128 && CodepointFlags.isWhitespace(cp)) {
                    cp = 0x0B;
                }
                sb.appendCodePoint(cp);
                supplementary |= cp > 0xFFFF;
            }
            cpToChar[length] = sb.length();
            wide = sb.toString();
            if (supplementary) {
                charToCp = new int[wide.length() + 1];
                for (int i = 0; i <= length; i++) {
                    charToCp[cpToChar[i]] = i;
                }
            }
        }
        return wide;
    }

    int wideCharIndex(int cpIndex) {
        return cpToChar[cpIndex];
    }

    int wideCpIndex(int charIndex) {
        return charToCp == null ? charIndex : charToCp[charIndex];
    }

    /** Category flags at {@code pos}, or 0 outside {@code [from, to)}: how the custom splitters see segment ends. */
    int flagsAt(int pos, int from, int to) {
        return pos >= from && pos < to ? CodepointFlags.of(cps[pos]) : 0;
    }

    /** The code point at {@code pos}, or -1 outside {@code [from, to)}. */
    int cpAt(int pos, int from, int to) {
        return pos >= from && pos < to ? cps[pos] : -1;
    }
}
