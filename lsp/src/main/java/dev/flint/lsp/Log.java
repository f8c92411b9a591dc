package dev.flint.lsp;

import java.time.LocalTime;
import java.time.temporal.ChronoUnit;

/** Logging for the bridge: always stderr, because stdout carries only LSP messages. */
final class Log {
    private Log() {
    }

    static void info(String message) {
        System.err.println(LocalTime.now().truncatedTo(ChronoUnit.MILLIS) + " flint-lsp: " + message);
    }

    static void warn(String message) {
        info("warning: " + message);
    }
}
