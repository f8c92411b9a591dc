package dev.flint.cli.hub;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a response body that has delivered nothing for a while. The JDK's HTTP client has no read timeout for
 * bodies (a request's timeout ends with the headers), so a connection that goes quiet, as a dropped Wi-Fi often
 * does, would otherwise block a download forever instead of letting it resume.
 */
final class StallWatchdog implements AutoCloseable {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "flint-download-watchdog");
        t.setDaemon(true);
        return t;
    });

    private final Closeable body;
    private final long timeoutNanos;
    private final ScheduledFuture<?> check;
    private volatile long lastAlive = System.nanoTime();
    private volatile boolean fired;

    StallWatchdog(Closeable body, Duration timeout) {
        this.body = body;
        this.timeoutNanos = timeout.toNanos();
        long period = Math.max(20, timeout.toMillis() / 4);
        this.check = TIMER.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
    }

    /** Data arrived. */
    void alive() {
        lastAlive = System.nanoTime();
    }

    /** Whether the body was closed for going quiet (so a read's IOException means a stall). */
    boolean fired() {
        return fired;
    }

    private void check() {
        if (!fired && System.nanoTime() - lastAlive > timeoutNanos) {
            fired = true;
            try {
                body.close(); // wakes the blocked read with an IOException
            } catch (IOException ignored) {
                // closing is all that can be done
            }
        }
    }

    @Override
    public void close() {
        check.cancel(false);
    }
}
