package dev.flint.engine.tokenizer;

/** UTF-8 helpers with llama.cpp's conventions, which differ from the JDK decoder on malformed input. */
final class Utf8 {
    private Utf8() {
    }

    /** Sequence length announced by a lead byte, judged from its top four bits only (as unicode_len_utf8 does). */
    static int sequenceLength(byte lead) {
        int high = (lead & 0xFF) >>> 4;
        return high < 12 ? 1 : high < 14 ? 2 : high == 14 ? 3 : 4;
    }

    /**
     * Decodes {@code bytes[from, to)} into code points. A malformed sequence yields U+FFFD for its first byte and
     * decoding resumes at the next byte, as unicode_cpts_from_utf8 does. {@code starts}, if not null, receives the
     * byte offset of each code point; it must hold {@code to - from + 1} entries (the last is set to {@code to}).
     *
     * @return the number of code points written to {@code cps}
     */
    static int decode(byte[] bytes, int from, int to, int[] cps, int[] starts) {
        int n = 0;
        int i = from;
        while (i < to) {
            int b0 = bytes[i] & 0xFF;
            int cp;
            int len;
            if (b0 < 0x80) {
                cp = b0;
                len = 1;
            } else if ((b0 & 0x40) == 0) {
                cp = -1;
                len = 1;
            } else if ((b0 & 0x20) == 0) {
                len = 2;
                cp = continuation(bytes, i, to, len) ? ((b0 & 0x1F) << 6) | (bytes[i + 1] & 0x3F) : -1;
            } else if ((b0 & 0x10) == 0) {
                len = 3;
                cp = continuation(bytes, i, to, len)
                        ? ((b0 & 0x0F) << 12) | ((bytes[i + 1] & 0x3F) << 6) | (bytes[i + 2] & 0x3F) : -1;
            } else if ((b0 & 0x08) == 0) {
                len = 4;
                cp = continuation(bytes, i, to, len) ? ((b0 & 0x07) << 18) | ((bytes[i + 1] & 0x3F) << 12)
                        | ((bytes[i + 2] & 0x3F) << 6) | (bytes[i + 3] & 0x3F) : -1;
            } else {
                cp = -1;
                len = 1;
            }
            if (cp < 0) {
                cp = 0xFFFD;
                len = 1;
            }
            if (starts != null) {
                starts[n] = i;
            }
            cps[n++] = cp;
            i += len;
        }
        if (starts != null) {
            starts[n] = to;
        }
        return n;
    }

    private static boolean continuation(byte[] b, int i, int to, int len) {
        if (i + len > to) {
            return false;
        }
        for (int k = 1; k < len; k++) {
            if ((b[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        return true;
    }

    /** Appends the UTF-8 encoding of {@code cp} to {@code out} at {@code pos}; returns the new position. */
    static int encode(int cp, byte[] out, int pos) {
        if (cp < 0x80) {
            out[pos++] = (byte) cp;
        } else if (cp < 0x800) {
            out[pos++] = (byte) (0xC0 | (cp >> 6));
            out[pos++] = (byte) (0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[pos++] = (byte) (0xE0 | (cp >> 12));
            out[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            out[pos++] = (byte) (0x80 | (cp & 0x3F));
        } else {
            out[pos++] = (byte) (0xF0 | (cp >> 18));
            out[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
            out[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            out[pos++] = (byte) (0x80 | (cp & 0x3F));
        }
        return pos;
    }

    /**
     * Length of the longest prefix of {@code bytes[0, len)} that does not end inside a UTF-8 sequence which later
     * bytes could still complete. Malformed bytes count as complete (the decoder replaces them), so a stream never
     * stalls on garbage.
     */
    static int completePrefix(byte[] bytes, int len) {
        for (int back = 1; back <= 3 && back <= len; back++) {
            int b = bytes[len - back] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for its lead
            }
            int need = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 1;
            return need > back ? len - back : len;
        }
        return len;
    }
}
