package dev.flint.engine.gguf;

import dev.flint.engine.ModelLoadException;

/** The bytes of a file do not form a valid GGUF file (bad magic, truncation, impossible sizes or offsets). */
public final class GgufFormatException extends ModelLoadException {
    public GgufFormatException(String message) {
        super(message);
    }
}
