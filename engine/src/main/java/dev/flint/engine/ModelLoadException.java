package dev.flint.engine;

/**
 * A model file could not be used: it is malformed, truncated, or uses an architecture or tensor type Flint does not
 * support. The message is written for the person who chose the file.
 */
public class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
