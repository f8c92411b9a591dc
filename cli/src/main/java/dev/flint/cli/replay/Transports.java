package dev.flint.cli.replay;

import java.nio.file.Path;

/** Makes the transport named on the command line. */
public final class Transports {
    private Transports() {}

    public static Transport create(String name, ReplaySettings settings, Path file) {
        return switch (name) {
            case "infill" -> new InfillTransport(settings);
            case "ws" -> new WsTransport(settings, file);
            default -> throw new IllegalArgumentException("unknown transport '" + name + "' (infill or ws)");
        };
    }
}
