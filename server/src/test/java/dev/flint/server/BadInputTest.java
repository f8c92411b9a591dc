package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.server.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/** Bad requests get a 4xx with a JSON error body, and the server keeps serving everyone else. */
class BadInputTest {
    static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer("stories260K-F32.gguf", 1, 128, 1, null);
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
        var r = ts.post("/v1/completions", "{\"prompt\":" + Json.write("Once upon a time ".repeat(100)) + "}");
        assertError(r, 400);
        assertTrue(r.body().contains("context holds 128"), r.body());
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
        // one slot, queue of one: the third long request is refused
        String longBody = "{\"prompt\":\"Once\",\"max_tokens\":120,\"ignore_eos\":true}";
        List<CompletableFuture<HttpResponse<String>>> running = new ArrayList<>();
        int refused = 0;
        for (int i = 0; i < 4; i++) {
            var f = ts.http.sendAsync(HttpRequest.newBuilder(ts.uri("/completion"))
                    .POST(HttpRequest.BodyPublishers.ofString(longBody)).build(), HttpResponse.BodyHandlers.ofString());
            running.add(f);
            Thread.sleep(30);
        }
        for (var f : running) {
            var r = f.get();
            if (r.statusCode() == 503) {
                refused++;
                assertTrue(r.body().contains("busy"), r.body());
            } else {
                assertEquals(200, r.statusCode(), r.body());
            }
        }
        assertTrue(refused >= 1, "a request was refused");
        assertEquals(200, ts.post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1}").statusCode());
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
