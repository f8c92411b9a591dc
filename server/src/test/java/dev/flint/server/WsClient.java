package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.server.http.Json;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A test client of the native protocol on the JDK's WebSocket: messages land in a queue. */
final class WsClient implements AutoCloseable {
    final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    final WebSocket ws;
    volatile boolean closed;

    WsClient(HttpClient http, String base) throws Exception {
        ws = http.newWebSocketBuilder().buildAsync(URI.create(base.replace("http", "ws") + "/v1/ws"),
                new WebSocket.Listener() {
                    private final StringBuilder buf = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        buf.append(data);
                        if (last) {
                            try {
                                inbox.add(Json.MAPPER.readTree(buf.toString()));
                            } catch (Exception e) {
                                throw new RuntimeException(e);
                            }
                            buf.setLength(0);
                        }
                        w.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
                        closed = true;
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
    }

    void send(String json) {
        ws.sendText(json, true).join();
    }

    JsonNode next() throws InterruptedException {
        JsonNode m = inbox.poll(20, TimeUnit.SECONDS);
        if (m == null) {
            throw new AssertionError("no message within 20 s");
        }
        return m;
    }

    /** Skips messages until one matches. */
    JsonNode until(Predicate<JsonNode> p) throws InterruptedException {
        while (true) {
            JsonNode m = next();
            if (p.test(m)) {
                return m;
            }
        }
    }

    static Predicate<JsonNode> type(String type, String id) {
        return m -> type.equals(m.path("type").asText()) && (id == null || id.equals(m.path("id").asText()));
    }

    @Override
    public void close() {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
    }
}
