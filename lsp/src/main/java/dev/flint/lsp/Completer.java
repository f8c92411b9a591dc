package dev.flint.lsp;

import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.lsp4j.Position;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Completion requests with the editor's pace in mind: each waits {@code debounceMs} before it is sent, a newer
 * request on the same document supersedes the older one (a superseded request that was not sent yet never reaches
 * the server; one already sent gets a protocol {@code cancel}), and cancelling the returned future (lsp4j does on
 * {@code $/cancelRequest}) does the same.
 */
final class Completer implements AutoCloseable {
    private final Bridge bridge;
    private final Backend backend;
    private final LspOptions options;
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
            Thread.ofPlatform().name("flint-lsp-debounce").daemon().factory());
    private final Map<String, Pending> latest = new ConcurrentHashMap<>();

    Completer(Bridge bridge, Backend backend, LspOptions options) {
        this.bridge = bridge;
        this.backend = backend;
        this.options = options;
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * The model's completion at a position: the text to insert, or "" when the request was superseded or the
     * document changed before it was sent. Cancelling the future cancels the request.
     */
    CompletableFuture<String> complete(String uri, Position position) {
        Bridge.Request r = bridge.prepare(uri, position);
        if (r == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("document " + uri + " is not open"));
        }
        Pending p = new Pending(r);
        Pending older = latest.put(uri, p);
        if (older != null) {
            older.abort();
            older.result.complete(""); // superseded
        }
        p.result.whenComplete((text, e) -> {
            latest.remove(uri, p);
            if (p.result.isCancelled()) {
                p.abort();
            }
        });
        p.timer = timer.schedule(p::fire, options.debounceMs(), TimeUnit.MILLISECONDS);
        return p.result;
    }

    @Override
    public void close() {
        // not shutdownNow: its interrupt could land in the middle of a response being written (lsp4j writes on the
        // thread that completes a request), and an interrupted write closes an interruptible channel for good
        timer.shutdown();
    }

    /** One request: waiting out the debounce, then sent, then done; or aborted at any point. */
    private final class Pending {
        final Bridge.Request request;
        final CompletableFuture<String> result = new CompletableFuture<>();
        volatile ScheduledFuture<?> timer;
        private FlintSocket socket;
        private String id;
        private boolean aborted;

        Pending(Bridge.Request request) {
            this.request = request;
        }

        void fire() {
            try {
                backend.endpoint(); // an in-process model may still be loading: wait here, holding no lock
                synchronized (this) {
                    if (aborted) {
                        return;
                    }
                    CompletableFuture<JsonNode> done = bridge.sendIfCurrent(request, s -> {
                        socket = s;
                        id = s.nextId("c");
                        return s.complete(request.message().deepCopy().put("id", id));
                    });
                    if (done == null) {
                        result.complete(""); // the document changed during the debounce: the editor asks again
                        return;
                    }
                    done.whenComplete((m, e) -> {
                        if (e != null) {
                            result.completeExceptionally(e);
                        } else if (m.has("error")) {
                            result.completeExceptionally(new IOException("the engine failed: "
                                    + m.get("error").asText()));
                        } else {
                            result.complete(m.path("text").asText(""));
                        }
                    });
                }
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        }

        synchronized void abort() {
            if (aborted) {
                return;
            }
            aborted = true;
            if (socket == null) {
                ScheduledFuture<?> t = timer;
                if (t != null) {
                    t.cancel(false); // still debouncing: the server never hears of it
                }
            } else if (!result.isDone() || result.isCancelled()) {
                socket.cancel(id);
            }
        }
    }
}
