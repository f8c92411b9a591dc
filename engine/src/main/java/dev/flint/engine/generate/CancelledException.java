package dev.flint.engine.generate;

/** Work stopped because its requester cancelled it (a cancel message, a closed connection). */
public final class CancelledException extends RuntimeException {
    public CancelledException() {
        super("cancelled", null, false, false);
    }
}
