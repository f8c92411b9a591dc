package dev.flint.engine.tokenizer;

/** Token types as stored in {@code tokenizer.ggml.token_type} (values are the GGUF codes). */
public enum TokenType {
    UNDEFINED(0), NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

    public final int code;

    TokenType(int code) {
        this.code = code;
    }

    static TokenType ofCode(int code) {
        return code >= 0 && code <= 6 ? values()[code] : UNDEFINED;
    }
}
