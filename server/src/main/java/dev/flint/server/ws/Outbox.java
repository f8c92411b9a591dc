package dev.flint.server.ws;

import io.javalin.websocket.WsContext;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Messages to one WebSocket client, sent by the connection's own virtual thread so the scheduler's loop never
 * blocks on a socket. Bounded: a client that stops reading fills it, and then {@code onOverflow} runs (the
 * connection cancels its requests and closes).
 */
final class Outbox {
    static final int CAPACITY = 4096;
    private static final String POISON = "\u0000close";

    private final ArrayBlockingQueue<String> queue = new ArrayBlockingQueue<>(CAPACITY);
    private final WsContext ctx;
    private final Runnable onOverflow;
    private volatile boolean closed;

    Outbox(WsContext ctx, Runnable onOverflow) {
        this.ctx = ctx;
        this.onOverflow = onOverflow;
        Thread.ofVirtual().name("flint-ws-send-" + ctx.sessionId()).start(this::drain);
    }

    void send(String message) {
        if (closed) {
            return;
        }
        if (!queue.offer(message)) {
            closed = true;
            onOverflow.run();
        }
    }

    void close() {
        closed = true;
        queue.offer(POISON);
    }

    private void drain() {
        try {
            while (true) {
                String m = queue.poll(30, TimeUnit.SECONDS);
                if (m == POISON || (m == null && closed)) {
                    return;
                }
                if (m != null && ctx.session.isOpen()) {
                    ctx.send(m);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            closed = true; // the socket broke: the close handler cancels the requests
        }
    }
}
