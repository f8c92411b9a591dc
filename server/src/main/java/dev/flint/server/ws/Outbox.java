package dev.flint.server.ws;

import io.javalin.websocket.WsContext;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Messages to one WebSocket client, sent by the connection's own virtual thread so the scheduler's loop never
 * blocks on a socket. Bounded: a client that stops reading fills it, and then {@code onOverflow} runs (the
 * connection cancels its requests and closes).
 */
final class Outbox {
    static final int CAPACITY = 4096;
    static final int PING_SECONDS = 20;
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

    /**
     * The only thread that writes to the socket: messages, and a ping after 20 s without any (Jetty's blocking
     * sends fail when two overlap, so keep-alive pings go through here too rather than through a timer).
     */
    private void drain() {
        try {
            while (true) {
                String m = queue.poll(PING_SECONDS, TimeUnit.SECONDS);
                if (m == POISON || (m == null && closed) || !ctx.session.isOpen()) {
                    return;
                }
                try {
                    if (m == null) {
                        ctx.session.getRemote().sendPing(ByteBuffer.allocate(0));
                    } else {
                        ctx.send(m);
                    }
                } catch (IOException | RuntimeException e) {
                    if (!ctx.session.isOpen()) {
                        return; // the socket broke: the close handler cancels the requests
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
