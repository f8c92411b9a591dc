package dev.flint.lsp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.Serial;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One WebSocket to a Flint server's native protocol ({@code docs/protocol.md}), through the JDK's own client.
 * Messages are sent strictly in order (a {@code complete} sent after a {@code change} sees the change); each
 * {@code complete} resolves with its {@code done} message, or fails with the server's {@code error}.
 */
final class FlintSocket implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** What the server said in its {@code hello}. */
    record Hello(String model, int nCtx, int slots, boolean fim) {
    }

    /** The server refused a request ({@code error} message). */
    static final class ServerError extends RuntimeException {
        @Serial
        private static final long serialVersionUID = 1L;
        final int status;

        ServerError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final Consumer<String> trace;
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<Hello> hello = new CompletableFuture<>();
    private final AtomicLong ids = new AtomicLong();
    private final StringBuilder partial = new StringBuilder();
    private final HttpClient http;
    private final WebSocket ws;
    /** The last send; the JDK's WebSocket allows one outstanding send, so each waits for the one before. */
    private CompletableFuture<?> sendChain = CompletableFuture.completedFuture(null);
    private volatile boolean closed;
    /** Told when the server refused a document-sync message, so the owner can resend the documents whole. */
    private volatile Runnable syncErrors = () -> { };

    private FlintSocket(URI uri, String apiKey, Consumer<String> trace) throws IOException {
        this.trace = trace;
        http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
        WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(CONNECT_TIMEOUT);
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        try {
            ws = b.buildAsync(uri, new Listener()).get(CONNECT_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            http.shutdownNow();
            String why = e.getCause() instanceof WebSocketHandshakeException h
                    ? "the server answered HTTP " + h.getResponse().statusCode()
                    + (h.getResponse().statusCode() == 401 ? " (wrong or missing --api-key)" : "")
                    : refused(e) ? "connection refused (is a Flint server running there?)" : rootMessage(e);
            throw new IOException("cannot connect to Flint at " + uri + ": " + why, e);
        } catch (TimeoutException e) {
            http.shutdownNow();
            throw new IOException("cannot connect to Flint at " + uri + ": timed out", e);
        } catch (InterruptedException e) {
            http.shutdownNow();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting to " + uri, e);
        }
    }

    /** Connects and waits for the server's {@code hello}. */
    static FlintSocket connect(URI uri, String apiKey, Consumer<String> trace) throws IOException {
        FlintSocket s = new FlintSocket(uri, apiKey, trace);
        try {
            s.hello.get(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            s.close();
            throw new IOException("Flint at " + uri + " did not say hello: " + rootMessage(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.close();
            throw new IOException("interrupted while connecting to " + uri, e);
        }
        return s;
    }

    void onSyncError(Runnable handler) {
        syncErrors = handler;
    }

    Hello hello() {
        return hello.join();
    }

    boolean isOpen() {
        return !closed;
    }

    /** A fresh request id, unique on this socket. */
    String nextId(String prefix) {
        return prefix + ids.incrementAndGet();
    }

    /** Sends {@code complete}; the future resolves with the {@code done} message. {@code msg} must carry an id. */
    CompletableFuture<JsonNode> complete(ObjectNode msg) {
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        String id = msg.get("id").asText();
        pending.put(id, f);
        if (closed && pending.remove(id, f)) { // lost() may have run before the put: nobody else will end f
            f.completeExceptionally(new IOException("connection to Flint lost"));
            return f;
        }
        send(msg);
        return f;
    }

    void cancel(String id) {
        send(JSON.createObjectNode().put("type", "cancel").put("id", id));
    }

    /** Sends one message after the previous ones; a failed send closes this socket (the caller reconnects). */
    synchronized void send(ObjectNode msg) {
        if (closed) {
            return;
        }
        String text = msg.toString();
        trace.accept("-> " + text);
        sendChain = sendChain.thenCompose(x -> ws.sendText(text, true)).exceptionally(e -> {
            lost("send failed: " + rootMessage(e));
            return null;
        });
    }

    @Override
    public void close() {
        if (!closed) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(e -> null);
        }
        lost("closed");
    }

    private void lost(String why) {
        closed = true;
        http.shutdown(); // its selector thread ends once the socket is gone
        hello.completeExceptionally(new IOException(why));
        IOException e = new IOException("connection to Flint lost: " + why);
        pending.values().forEach(f -> f.completeExceptionally(e));
        pending.clear();
    }

    private void onMessage(String text) {
        trace.accept("<- " + text);
        JsonNode m;
        try {
            m = JSON.readTree(text);
        } catch (IOException e) {
            Log.warn("unreadable message from Flint: " + text);
            return;
        }
        String id = m.path("id").asText(null);
        switch (m.path("type").asText()) {
            case "hello" -> hello.complete(new Hello(m.path("model").asText(), m.path("n_ctx").asInt(),
                    m.path("slots").asInt(), m.path("fim").asBoolean()));
            case "done" -> {
                CompletableFuture<JsonNode> f = id == null ? null : pending.remove(id);
                if (f != null) {
                    f.complete(m);
                }
            }
            case "error" -> {
                CompletableFuture<JsonNode> f = id == null ? null : pending.remove(id);
                ServerError e = new ServerError(m.path("status").asInt(500), m.path("message").asText());
                if (f != null) {
                    f.completeExceptionally(e);
                } else if (!(m.path("status").asInt() == 404 && "unknown_request".equals(m.path("code").asText()))) {
                    // a cancel racing the request's end is harmless; anything else (a sync edit refused) is not
                    Log.warn("Flint: " + e.getMessage() + (id == null ? "" : " (" + id + ")"));
                    syncErrors.run();
                }
            }
            default -> {
                // delta, ack, pong: nothing to do; the whole text comes with done
            }
        }
    }

    private final class Listener implements WebSocket.Listener {
        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                onMessage(text);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            lost("server closed the socket (" + statusCode + (reason.isEmpty() ? "" : " " + reason) + ")");
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            lost(rootMessage(error));
        }
    }

    private static boolean refused(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ConnectException) {
                return true;
            }
        }
        return false;
    }

    static String rootMessage(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
