package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.server.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** Bad requests get a 4xx with a JSON error body, and the server keeps serving everyone else. */
class BadInputTest {
    static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer("stories260K-F32.gguf", 1, 2048, 1, null);
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    static void assertError(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = Json.MAPPER.readTree(r.body()).get("error");
        assertNotNull(e, r.body());
        assertFalse(e.get("message").asText().isEmpty());
        assertEquals(status, e.get("code").asInt());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{not json", "[]", "\"prompt\"", "", "{\"prompt\": 5}", "{\"prompt\": \"a\", \"max_tokens\": -1}",
        "{\"prompt\": \"a\", \"max_tokens\": 1e12}", "{\"prompt\": \"a\", \"max_tokens\": \"5\"}",
        "{\"prompt\": \"a\", \"temperature\": \"hot\"}", "{\"prompt\": \"a\", \"n\": 1000}",
        "{\"prompt\": \"a\", \"stop\": [1]}", "{\"prompt\": \"a\", \"top_p\": 7}", "{\"prompt\": [\"a\", \"b\"]}",
        "{\"prompt\": [99999999]}", "{\"max_tokens\": 3}"
    })
    void malformedOrOutOfRangeCompletionRequestsAre400(String body) throws Exception {
        assertError(ts.post("/v1/completions", body), 400);
    }

    @Test
    void unknownFieldsAreIgnoredOverHttpAsOpenAiAndLlamaCppDo() throws Exception {
        assertEquals(200, ts.post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1,\"user\":\"x\",\"whatever\":1}")
                .statusCode());
    }

    @Test
    void aPromptLongerThanTheContextIs400WithTheNumbers() throws Exception {
        var r = ts.post("/v1/completions", "{\"prompt\":" + Json.write("Once upon a time ".repeat(600)) + "}");
        assertError(r, 400);
        assertTrue(r.body().contains("context holds 2048"), r.body());
    }

    @Test
    void tenMegabyteBodyIs413() throws Exception {
        byte[] big = ("{\"prompt\":\"" + "a".repeat(10 << 20) + "\"}").getBytes(StandardCharsets.UTF_8);
        var r = ts.postBytes("/v1/completions", big);
        assertEquals(413, r.statusCode());
    }

    @Test
    void invalidUtf8Is400() throws Exception {
        byte[] body = "{\"prompt\":\"a\u0001\"}".getBytes(StandardCharsets.UTF_8);
        body[body.length - 3] = (byte) 0xC3; // a lead byte with no continuation
        assertError(ts.postBytes("/v1/completions", body), 400);
    }

    @Test
    void unknownRouteIs404AndWrongMethodIsAnError() throws Exception {
        assertError(ts.get("/v2/nothing"), 404);
        assertTrue(ts.get("/v1/completions").statusCode() >= 400);
    }

    @Test
    void aFullQueueAnswers503AndTheServerRecovers() throws Exception {
        // one slot busy, one request waiting (queue capacity 1): the next one is refused
        var sched = ts.service.scheduler();
        String longBody = "{\"prompt\":\"Once\",\"n_predict\":2000,\"ignore_eos\":true}";
        var running = ts.http.sendAsync(HttpRequest.newBuilder(ts.uri("/completion"))
                .POST(HttpRequest.BodyPublishers.ofString(longBody)).build(), HttpResponse.BodyHandlers.ofString());
        awaitTrue(() -> sched.busySlots() == 1);
        var queued = ts.http.sendAsync(HttpRequest.newBuilder(ts.uri("/completion"))
                .POST(HttpRequest.BodyPublishers.ofString(longBody)).build(), HttpResponse.BodyHandlers.ofString());
        awaitTrue(() -> sched.queueDepth() == 1);
        var refused = ts.post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1}");
        assertError(refused, 503);
        assertTrue(refused.body().contains("busy"), refused.body());
        assertEquals(200, running.get().statusCode());
        assertEquals(200, queued.get().statusCode());
        assertEquals(200, ts.post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1}").statusCode());
    }

    @Test
    void aStreamingClientThatDisconnectsIsCancelledAndFreesItsSlot() throws Exception {
        var sched = ts.service.scheduler();
        awaitTrue(() -> sched.busySlots() == 0);
        long before = sched.decodeSteps();
        // a raw socket, closed with a reset right after the first event: the HTTP client's own close may leave the
        // connection to drain, and 2000 small events fit in the socket buffers of a fast model
        String body = "{\"prompt\":\"Once\",\"n_predict\":2000,\"ignore_eos\":true,\"stream\":true}";
        java.net.URI u = ts.uri("/completion");
        try (java.net.Socket sock = new java.net.Socket(u.getHost(), u.getPort())) {
            var out = sock.getOutputStream();
            out.write(("POST /completion HTTP/1.1\r\nHost: " + u.getHost() + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                    + "\r\n\r\n" + body).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.flush();
            var in = sock.getInputStream();
            String seen = "";
            byte[] buf = new byte[256];
            while (!seen.contains("data:")) { // the first event arrived; now hang up
                int n = in.read(buf);
                assertTrue(n > 0, "stream ended before its first event");
                seen += new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8);
            }
            sock.setSoLinger(true, 0);
        }
        awaitTrue(() -> sched.busySlots() == 0);
        long steps = sched.decodeSteps() - before;
        assertTrue(steps < 1999, "the engine stopped early: " + steps + " decode steps of 1999");
        Thread.sleep(50);
        assertEquals(before + steps, sched.decodeSteps(), "and does nothing more");
        assertTrue(ts.get("/metrics").body().lines().anyMatch(l -> l.startsWith("flint_cancellations_total")
                && !l.endsWith(" 0.0")));
    }

    @Test
    void aNonStreamedRequestIsCancelledWhenItsClientHangsUp() throws Exception {
        // llama.vim's way: a non-streamed /infill from curl, cancelled by killing curl (the socket closes, FIN)
        var sched = ts.service.scheduler();
        awaitTrue(() -> sched.busySlots() == 0);
        long before = sched.decodeSteps();
        String body = "{\"prompt\":\"Once\",\"n_predict\":1500,\"ignore_eos\":true}";
        java.net.URI u = ts.uri("/completion");
        try (java.net.Socket sock = new java.net.Socket(u.getHost(), u.getPort())) {
            sock.getOutputStream().write(("POST /completion HTTP/1.1\r\nHost: " + u.getHost()
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sock.getOutputStream().flush();
            awaitTrue(() -> sched.decodeSteps() > before + 5); // it is generating
        }
        awaitTrue(() -> sched.busySlots() == 0);
        long steps = sched.decodeSteps() - before;
        assertTrue(steps < 1499, "the engine stopped early: " + steps + " decode steps of 1499");
        Thread.sleep(50);
        assertEquals(before + steps, sched.decodeSteps(), "and does nothing more");
        // the connection watch leaves the server's own sockets alone: a keep-alive client still gets answers
        var r = ts.post("/completion", "{\"prompt\":\"Once\",\"n_predict\":4}");
        assertEquals(200, r.statusCode());
        assertEquals(200, ts.post("/completion", "{\"prompt\":\"Once\",\"n_predict\":4}").statusCode());
    }

    @Test
    void aStreamedRequestWaitingForASlotIsCancelledWhenItsClientHangsUpBeforeItsFirstToken() throws Exception {
        // an editor typing: the previous keystroke's streamed request is abandoned before it produced anything
        var sched = ts.service.scheduler();
        awaitTrue(() -> sched.busySlots() == 0);
        try (java.net.Socket running = rawPost("/completion",
                "{\"prompt\":\"Once\",\"n_predict\":1500,\"ignore_eos\":true}")) {
            long before = sched.decodeSteps();
            awaitTrue(() -> sched.decodeSteps() > before + 5); // the only slot is busy
            try (java.net.Socket waiting = rawPost("/completion",
                    "{\"prompt\":\"Twice\",\"n_predict\":1500,\"stream\":true}")) {
                awaitTrue(() -> sched.queueDepth() == 1);
            }
            awaitTrue(() -> sched.queueDepth() == 0); // dropped from the queue, nothing was written to it
            long steps = sched.decodeSteps() - before;
            assertTrue(steps < 1400, "dropped while the first request still ran, not after it: " + steps + " steps");
        }
        awaitTrue(() -> sched.busySlots() == 0);
    }

    private java.net.Socket rawPost(String path, String body) throws Exception {
        java.net.URI u = ts.uri(path);
        java.net.Socket sock = new java.net.Socket(u.getHost(), u.getPort());
        byte[] b = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        sock.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: " + u.getHost()
                + "\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        sock.getOutputStream().write(b);
        sock.getOutputStream().flush();
        return sock;
    }

    @Test
    void aNonStreamedOpenAiRequestIsCancelledWhenItsClientHangsUp() throws Exception {
        var sched = ts.service.scheduler();
        awaitTrue(() -> sched.busySlots() == 0);
        long before = sched.decodeSteps();
        var client = java.net.http.HttpClient.newHttpClient();
        var pending = client.sendAsync(java.net.http.HttpRequest.newBuilder(ts.uri("/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"prompt\":\"Once\",\"max_tokens\":1500,\"ignore_eos\":true}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        awaitTrue(() -> sched.decodeSteps() > before + 5);
        client.shutdownNow(); // the JDK client closes its connections
        awaitTrue(() -> sched.busySlots() == 0);
        assertTrue(sched.decodeSteps() - before < 1499, "stopped after " + (sched.decodeSteps() - before));
        assertThrows(java.util.concurrent.ExecutionException.class, () -> pending.get(10, TimeUnit.SECONDS),
                "the client saw its connection go");
    }

    static void awaitTrue(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!c.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "condition not reached in 10 s");
            Thread.sleep(1);
        }
    }

    @Test
    void aClientThatStopsReadingDoesNotBlockOthers() throws Exception {
        try (Socket s = new Socket("127.0.0.1", ts.server.port())) {
            s.setReceiveBufferSize(1024);
            String body = "{\"prompt\":\"Once\",\"max_tokens\":100,\"stream\":true}";
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            in.read(new byte[16]); // then never read again
            long t0 = System.nanoTime();
            var r = ts.post("/tokenize", "{\"content\":\"hello\"}");
            assertEquals(200, r.statusCode());
            assertEquals(200, ts.post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1}").statusCode());
            assertTrue((System.nanoTime() - t0) / 1e9 < 10);
        }
    }

    @Test
    void apiKeyIsRequiredWhenConfigured() throws Exception {
        try (var secured = new TestServer("stories260K-F32.gguf", 1, 64, 1, "sekret")) {
            assertError(secured.get("/v1/models"), 401);
            assertEquals(200, secured.get("/health").statusCode());
            var ok = secured.http.send(HttpRequest.newBuilder(secured.uri("/v1/models"))
                    .header("Authorization", "Bearer sekret").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode());
            var noKey = secured.http.newWebSocketBuilder()
                    .buildAsync(java.net.URI.create(secured.base().replace("http", "ws") + "/v1/ws"),
                            new java.net.http.WebSocket.Listener() { });
            var failure = assertThrows(java.util.concurrent.ExecutionException.class, noKey::get);
            assertTrue(failure.getCause() instanceof java.net.http.WebSocketHandshakeException, failure.toString());
            assertEquals(401, ((java.net.http.WebSocketHandshakeException) failure.getCause()).getResponse().statusCode());
            var withKey = secured.http.newWebSocketBuilder().header("Authorization", "Bearer sekret")
                    .buildAsync(java.net.URI.create(secured.base().replace("http", "ws") + "/v1/ws"),
                            new java.net.http.WebSocket.Listener() { }).get();
            withKey.abort();
        }
    }

    @Test
    void aNonLoopbackBindWithoutAKeyIsRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new ServerConfig("0.0.0.0", 0, null, false, ServerConfig.DEFAULT_MAX_BODY).checkExposure());
        assertTrue(e.getMessage().contains("--api-key"));
        new ServerConfig("0.0.0.0", 0, null, true, ServerConfig.DEFAULT_MAX_BODY).checkExposure();
        new ServerConfig("0.0.0.0", 0, "k", false, ServerConfig.DEFAULT_MAX_BODY).checkExposure();
    }
}
