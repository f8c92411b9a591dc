package dev.flint.cli.hub;

import java.io.IOException;

/** A download that failed for a reason the user can act on; the message says what to do. */
public final class HubException extends IOException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
