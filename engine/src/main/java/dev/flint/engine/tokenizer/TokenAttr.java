package dev.flint.engine.tokenizer;

/** Per-token attribute bits, mirroring llama_token_attr: a type bit plus the strip flags some models set. */
final class TokenAttr {
    static final int UNDEFINED = 0;
    static final int UNKNOWN = 1;
    static final int UNUSED = 1 << 1;
    static final int NORMAL = 1 << 2;
    static final int CONTROL = 1 << 3;
    static final int USER_DEFINED = 1 << 4;
    static final int BYTE = 1 << 5;
    static final int LSTRIP = 1 << 7;
    static final int RSTRIP = 1 << 8;

    private TokenAttr() {
    }

    static int ofType(TokenType t) {
        return switch (t) {
            case NORMAL -> NORMAL;
            case UNKNOWN -> UNKNOWN;
            case CONTROL -> CONTROL;
            case USER_DEFINED -> USER_DEFINED;
            case UNUSED -> UNUSED;
            case BYTE -> BYTE;
            case UNDEFINED -> UNDEFINED;
        };
    }

    static TokenType typeOf(int attr) {
        if ((attr & UNKNOWN) != 0) {
            return TokenType.UNKNOWN;
        } else if ((attr & UNUSED) != 0) {
            return TokenType.UNUSED;
        } else if ((attr & NORMAL) != 0) {
            return TokenType.NORMAL;
        } else if ((attr & CONTROL) != 0) {
            return TokenType.CONTROL;
        } else if ((attr & USER_DEFINED) != 0) {
            return TokenType.USER_DEFINED;
        } else if ((attr & BYTE) != 0) {
            return TokenType.BYTE;
        }
        return TokenType.UNDEFINED;
    }
}
