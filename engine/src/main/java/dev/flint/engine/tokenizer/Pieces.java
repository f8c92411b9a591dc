package dev.flint.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The bytes each token stands for (llama.cpp's token_to_piece with special=true, which it caches the same way):
 * SentencePiece "▁" becomes a space and {@code <0xXX>} its byte; byte-level BPE characters map back to bytes;
 * control, unknown and user-defined tokens are their literal text. Unused and undefined tokens are empty.
 */
final class Pieces {
    private static final byte[] EMPTY = new byte[0];

    private Pieces() {
    }

    static byte[][] build(Vocabulary v) {
        byte[][] pieces = new byte[v.size()][];
        for (int id = 0; id < v.size(); id++) {
            pieces[id] = piece(v, id);
        }
        return pieces;
    }

    private static byte[] piece(Vocabulary v, int id) {
        int attr = v.attr(id);
        String text = v.token(id);
        if ((attr & (TokenAttr.UNKNOWN | TokenAttr.CONTROL | TokenAttr.USER_DEFINED)) != 0) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if (v.model() == Vocabulary.Model.SPM) {
            if ((attr & TokenAttr.NORMAL) != 0) {
                return text.indexOf('\u2581') < 0 ? text.getBytes(StandardCharsets.UTF_8)
                        : text.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
            }
            if ((attr & TokenAttr.BYTE) != 0) {
                return new byte[] {(byte) Integer.parseInt(text.substring(3, 5), 16)};
            }
            return EMPTY;
        }
        return (attr & TokenAttr.NORMAL) != 0 ? byteLevelDecode(text) : EMPTY;
    }

    /** Maps byte-level characters back to bytes; a character outside the map is spelled out as llama.cpp does. */
    private static byte[] byteLevelDecode(String text) {
        byte[] fast = new byte[text.length()];
        for (int i = 0; i < fast.length; i++) {
            int b = ByteLevel.byteOf(text.charAt(i));
            if (b < 0) {
                return byteLevelDecodeSlow(text);
            }
            fast[i] = (byte) b;
        }
        return fast;
    }

    private static byte[] byteLevelDecodeSlow(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        text.codePoints().forEach(cp -> {
            int b = ByteLevel.byteOf(cp);
            if (b >= 0) {
                out.write(b);
                return;
            }
            StringBuilder unk = new StringBuilder("[UNK_BYTE_0x");
            for (byte u : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                unk.append(String.format("%02x", u & 0xFF));
            }
            unk.append(text).append(']');
            out.writeBytes(unk.toString().getBytes(StandardCharsets.UTF_8));
        });
        return out.toByteArray();
    }

    /**
     * llama.cpp's clean_up_tokenization_spaces for BPE models: drops the space before ? ! . , and around a lone
     * apostrophe, and before 's 'm 're 've. Works in place on {@code b[0, len)}; returns the new length.
     */
    static int cleanSpaces(byte[] b, int len) {
        int total = len == 0 ? 0 : 1;
        for (int i = 1; i < len; i++) {
            byte x = b[i];
            if (b[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            b[total++] = x;
        }
        len = total;
        total = len == 0 ? 0 : 1;
        for (int i = 1; i < len; i++) {
            byte x = b[i];
            if (x == '\'' && i + 1 < len && b[i - 1] == ' ' && b[i + 1] == ' ') {
                total--;
                b[++i] = 0; // the space after is skipped; and the next step must not see it as a space
            }
            b[total++] = x;
        }
        len = total;
        total = len == 0 ? 0 : 1;
        for (int i = 1; i < len; i++) {
            byte x = b[i];
            if (b[i - 1] == ' ' && x == '\'' && i + 1 < len) {
                byte x1 = b[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (i + 2 < len) {
                    byte x2 = b[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            b[total++] = x;
        }
        return total;
    }
}
