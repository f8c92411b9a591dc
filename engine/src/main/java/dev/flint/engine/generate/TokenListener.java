package dev.flint.engine.generate;

/** Receives generated text as it becomes final: never a split UTF-8 character, never part of a stop string. */
@FunctionalInterface
public interface TokenListener {
    /** {@code text} may be empty when a token's bytes do not yet complete a character. */
    void onToken(int token, String text);

    TokenListener NONE = (token, text) -> { };
}
