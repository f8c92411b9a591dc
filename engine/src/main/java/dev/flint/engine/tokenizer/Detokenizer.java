package dev.flint.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a stream of generated tokens into text without ever splitting a UTF-8 character: bytes of a character that
 * is still incomplete (an emoji spread over byte tokens, say) are held until the token that completes it. Pieces are
 * concatenated as llama.cpp's token_to_piece gives them, with no leading-space strip or space clean-up, which is how
 * llama.cpp's server streams. Not thread-safe; one per stream.
 */
public final class Detokenizer {
    private final Tokenizer tokenizer;
    private final boolean renderSpecial;
    private byte[] pending = new byte[16];
    private int pendingLength;

    Detokenizer(Tokenizer tokenizer, boolean renderSpecial) {
        this.tokenizer = tokenizer;
        this.renderSpecial = renderSpecial;
    }

    /** Adds a token; returns the text it completes (possibly empty). */
    public String push(int token) {
        byte[] piece = tokenizer.piece(token, renderSpecial);
        if (pendingLength + piece.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + piece.length));
        }
        System.arraycopy(piece, 0, pending, pendingLength, piece.length);
        pendingLength += piece.length;
        int complete = Utf8.completePrefix(pending, pendingLength);
        if (complete == 0) {
            return "";
        }
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, pendingLength - complete);
        pendingLength -= complete;
        return text;
    }

    /** Ends the stream: held bytes that never formed a character come out as U+FFFD. */
    public String flush() {
        String text = new String(pending, 0, pendingLength, StandardCharsets.UTF_8);
        pendingLength = 0;
        return text;
    }

    /** Number of bytes held back, waiting for the rest of a character. */
    public int pendingBytes() {
        return pendingLength;
    }
}
