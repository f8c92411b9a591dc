package dev.flint.cli.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Flint's native protocol (docs/protocol.md) as an editor plugin would use it: one socket, {@code open} with the
 * document once, then per keystroke a {@code change} with the one-character insertion and a {@code complete} with
 * {@code doc} and {@code cursor}; a cancel is a {@code cancel} message. Sampling and budgets match the /infill body
 * (top_k 40, top_p 0.90, n_indent from the cursor line, the same n_predict and t_max_predict_ms).
 */
final class WsTransport implements Transport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ReplaySettings settings;
    private final String docUri;
    private final Map<String, Attempt> attempts = new ConcurrentHashMap<>();
    private final CompletableFuture<JsonNode> hello = new CompletableFuture<>();
    private final CompletableFuture<JsonNode> opened = new CompletableFuture<>();
    private volatile String connectionError;
    private WebSocket ws;

    WsTransport(ReplaySettings settings, Path file) {
        this.settings = settings;
        this.docUri = file.toAbsolutePath().toUri().toString();
    }

    @Override
    public void open(String doc) throws Exception {
        WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder()
                .connectTimeout(Duration.ofMillis(settings.timeoutMs()));
        if (settings.apiKey() != null && !settings.apiKey().isEmpty()) {
            b.header("Authorization", "Bearer " + settings.apiKey());
        }
        try {
            ws = b.buildAsync(settings.webSocket(), new Listener()).get(settings.timeoutMs(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            String why = e.getCause() instanceof WebSocketHandshakeException h
                    ? "the server answered HTTP " + h.getResponse().statusCode()
                    + (h.getResponse().statusCode() == 401 ? " (check --api-key)" : "")
                    : String.valueOf(e.getCause().getMessage());
            throw new IOException("cannot open " + settings.webSocket() + ": " + why, e);
        }
        JsonNode h = hello.get(settings.timeoutMs(), TimeUnit.MILLISECONDS);
        if (!h.path("fim").asBoolean(false)) {
            throw new IOException("the server's model (" + h.path("model").asText() + ") has no FIM tokens");
        }
        ObjectNode open = JSON.createObjectNode().put("type", "open").put("id", "open").put("doc", docUri)
                .put("text", doc);
        sendNow(open);
        JsonNode r = opened.get(settings.timeoutMs(), TimeUnit.MILLISECONDS);
        if (!"ack".equals(r.path("type").asText())) {
            throw new IOException("the server refused the document: " + r.path("message").asText(r.toString()));
        }
    }

    @Override
    public Attempt send(int key, String typed, int at, String doc, int cursor) throws IOException {
        String id = "k" + key;
        Attempt a = new Attempt(key, typed);
        a.onCancel(() -> {
            try {
                sendNow(JSON.createObjectNode().put("type", "cancel").put("id", id));
            } catch (IOException e) {
                a.fail("could not send cancel: " + e.getMessage());
            }
        });
        attempts.put(id, a);
        LocalContext c = LocalContext.at(doc, cursor, 0, 0); // only for n_indent
        ObjectNode change = JSON.createObjectNode().put("type", "change").put("doc", docUri);
        change.putArray("changes").addObject().put("start", at).put("end", at).put("text", typed);
        ObjectNode complete = JSON.createObjectNode().put("type", "complete").put("id", id).put("doc", docUri)
                .put("cursor", cursor).put("max_tokens", settings.nPredict()).put("n_indent", c.indent())
                .put("top_k", 40).put("top_p", 0.90).put("t_max_predict_ms", settings.tMaxPredictMs());
        complete.put("temperature", settings.temperature() != null ? settings.temperature() : 0.8);
        sendNow(change);
        sendNow(complete);
        return a;
    }

    /** The JDK's WebSocket allows one outstanding send: sends are serialised and awaited. */
    private synchronized void sendNow(ObjectNode msg) throws IOException {
        if (connectionError != null) {
            throw new IOException(connectionError);
        }
        try {
            ws.sendText(JSON.writeValueAsString(msg), true).get(settings.timeoutMs(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IOException("WebSocket send failed: " + e.getMessage(), e);
        }
    }

    private void onMessage(JsonNode m) {
        String type = m.path("type").asText();
        String id = m.path("id").asText(null);
        Attempt a = id == null ? null : attempts.get(id);
        switch (type) {
            case "hello" -> hello.complete(m);
            case "delta" -> {
                if (a != null) {
                    a.firstToken();
                }
            }
            case "done" -> {
                if (a != null) {
                    int prompt = m.at("/usage/prompt_tokens").asInt(-1);
                    int cached = m.at("/usage/cached_tokens").asInt(-1);
                    if (m.hasNonNull("error")) {
                        a.fail("the server failed the request: " + m.get("error").asText());
                    } else {
                        a.finish(m.path("finish_reason").asText(), m.path("text").asText(""), prompt, cached,
                                m.at("/usage/completion_tokens").asInt(-1));
                    }
                    attempts.remove(id);
                }
            }
            case "ack" -> {
                if ("open".equals(id)) {
                    opened.complete(m);
                }
            }
            case "error" -> {
                String msg = m.path("message").asText(m.toString());
                if ("open".equals(id)) {
                    opened.complete(m);
                } else if (a != null) {
                    // A cancel that crossed the request's end gets 404: the request is no longer pending then.
                    if (a.pending()) {
                        a.fail("the server refused the request: " + msg);
                        attempts.remove(id);
                    }
                } else if (id == null) {
                    failAll("the server refused a message: " + msg); // a change: the document is now out of sync
                }
            }
            default -> { }
        }
    }

    private void failAll(String message) {
        connectionError = message;
        hello.completeExceptionally(new IOException(message));
        opened.completeExceptionally(new IOException(message));
        attempts.values().forEach(a -> {
            a.fail(message);
            a.closed();
        });
        attempts.clear();
    }

    @Override
    public void close() {
        if (ws != null && !ws.isOutputClosed()) {
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // the server may be gone already
            }
            ws.abort();
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder buf = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            buf.append(data);
            if (last) {
                try {
                    onMessage(JSON.readTree(buf.toString()));
                } catch (IOException e) {
                    failAll("the server sent a message that is not JSON: " + e.getMessage());
                }
                buf.setLength(0);
            }
            w.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
            failAll("the server closed the WebSocket (" + code + (reason.isEmpty() ? "" : ": " + reason) + ")");
            return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
            failAll("WebSocket error: " + error.getMessage());
        }
    }
}
