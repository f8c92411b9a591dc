package dev.flint.server.http;

import io.javalin.http.Context;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.Request;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Notices that an HTTP client hung up while its non-streamed request is still generating.
 *
 * <p>Jetty 11 finds out only on its next write, and a non-streamed response writes nothing until the end, so the way
 * llama.vim cancels (it kills its curl process) would leave a slot generating until {@code n_predict} or the time
 * budget. One selector thread watches the sockets of waiting requests for readability; the request body has been read
 * by then, so "readable with nothing to read" is end-of-stream or a reset: the client is gone. Readable with bytes (a
 * pipelined next request) ends the watch without touching them, since they are Jetty's to read. llama.cpp's server
 * makes the same check with a peek ({@code is_socket_alive}), and like it, a client that half-closes its side after
 * sending the request counts as gone.
 */
public final class ClientDisconnects {
    private static final Logger LOG = Logger.getLogger(ClientDisconnects.class.getName());
    private static volatile ClientDisconnects instance;

    private final Selector selector;
    private final Queue<Entry> added = new ConcurrentLinkedQueue<>();

    private ClientDisconnects() throws IOException {
        selector = Selector.open();
        Thread t = new Thread(this::loop, "flint-disconnect-watch");
        t.setDaemon(true);
        t.start();
    }

    /** A watch to close once the response is ready (closing it before writing keeps the socket Jetty's alone). */
    public interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Calls {@code onGone} (once, on the watcher's thread) if the client of {@code ctx} disconnects before the
     * returned watch is closed. Connections that are not plain sockets (TLS, tests' in-memory connectors) are not
     * watched.
     */
    public static Watch watch(Context ctx, Runnable onGone) {
        SocketChannel channel = channel(ctx);
        if (channel == null) {
            return () -> { };
        }
        try {
            return shared().add(channel, onGone);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot watch client connections; disconnects are noticed on write only", e);
            return () -> { };
        }
    }

    private static SocketChannel channel(Context ctx) {
        try {
            Request base = Request.getBaseRequest(ctx.req());
            EndPoint ep = base == null ? null : base.getHttpChannel().getEndPoint();
            return ep instanceof SocketChannelEndPoint s ? s.getChannel() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static ClientDisconnects shared() throws IOException {
        ClientDisconnects d = instance;
        if (d == null) {
            synchronized (ClientDisconnects.class) {
                d = instance;
                if (d == null) {
                    d = instance = new ClientDisconnects();
                }
            }
        }
        return d;
    }

    private final class Entry implements Watch {
        final SocketChannel channel;
        final Runnable onGone;
        final AtomicBoolean done = new AtomicBoolean();
        volatile SelectionKey key;

        Entry(SocketChannel channel, Runnable onGone) {
            this.channel = channel;
            this.onGone = onGone;
        }

        @Override
        public void close() {
            if (done.compareAndSet(false, true)) {
                SelectionKey k = key;
                if (k != null) {
                    k.cancel();
                    selector.wakeup(); // deregister now, not at the next timeout: Jetty may close the channel next
                }
            }
        }

        void gone() {
            if (done.compareAndSet(false, true)) {
                key.cancel();
                try {
                    onGone.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "disconnect callback failed", e);
                }
            }
        }
    }

    private Watch add(SocketChannel channel, Runnable onGone) {
        Entry e = new Entry(channel, onGone);
        added.add(e);
        selector.wakeup();
        return e;
    }

    private void loop() {
        while (true) {
            try {
                Entry e;
                while ((e = added.poll()) != null) {
                    if (e.done.get()) {
                        continue;
                    }
                    try {
                        e.key = e.channel.register(selector, SelectionKey.OP_READ, e);
                        if (e.done.get()) {
                            e.key.cancel(); // closed while being registered
                        }
                    } catch (ClosedChannelException closed) {
                        e.key = null;
                        if (e.done.compareAndSet(false, true)) {
                            e.onGone.run();
                        }
                    }
                }
                selector.select(1000);
                for (SelectionKey k : selector.selectedKeys()) {
                    Entry w = (Entry) k.attachment();
                    if (w.done.get()) {
                        k.cancel();
                    } else if (!k.isValid()) {
                        w.gone(); // Jetty closed the connection under a running request
                    } else if (k.isReadable()) {
                        int available;
                        try {
                            available = w.channel.socket().getInputStream().available();
                        } catch (IOException | RuntimeException ex) {
                            available = 0; // reset or shut down
                        }
                        if (available == 0) {
                            w.gone();
                        } else {
                            w.close(); // bytes of a next request: not ours to judge
                        }
                    }
                }
                selector.selectedKeys().clear();
            } catch (Throwable t) {
                LOG.log(Level.WARNING, "disconnect watcher", t);
            }
        }
    }
}
