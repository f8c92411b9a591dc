package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.server.http.Json;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The playground page at {@code /}, driven in headless Chromium by playwright-core (server/src/test/node/
 * playground-check.mjs) against a real server: the script records every WebSocket frame, so these tests compare what
 * the page shows and inserts with what the server sent.
 */
class PlaygroundTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path SCREENSHOTS = Path.of("target/playground").toAbsolutePath();

    @Test
    void pageAndItsAssetsArePublicWhileEveryApiRouteStillNeedsTheKey() throws Exception {
        try (var ts = new TestServer("stories260K-F32.gguf", 1, 64, 4, "sekret")) {
            HttpResponse<String> page = ts.get("/");
            assertEquals(200, page.statusCode());
            assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
            assertTrue(page.body().contains("/playground/playground.js"));
            assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"));
            assertEquals(200, ts.get("/playground/playground.js").statusCode());
            assertEquals(200, ts.get("/playground/playground.css").statusCode());

            assertEquals(401, ts.get("/props").statusCode());
            assertEquals(401, ts.get("/v1/models").statusCode());
            assertEquals(401, ts.get("/playground/other.js").statusCode(), "only the page's own files are public");
            assertEquals(401, ts.post("/", "{}").statusCode(), "only GET is public");
            var withKey = ts.http.send(HttpRequest.newBuilder(URI.create(ts.base() + "/props"))
                    .header("Authorization", "Bearer sekret").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, withKey.statusCode());
        }
    }

    @Test
    void ghostTextStreamsOverTheWebSocketAndTabInsertsExactlyWhatTheServerSent() throws Exception {
        try (var ts = new TestServer("tiny-qwen2-F16.gguf", 2, 512, 8, null)) {
            String typed = "def fibonacci(n):\n    ";
            JsonNode r = runPage(ts, "fim", null, typed);

            JsonNode complete = r.get("complete");
            assertEquals("playground://editor", complete.get("doc").asText(), "FIM over the synced document");
            assertEquals(typed.length(), complete.get("cursor").asInt());
            assertNull(complete.get("prompt"));
            String done = r.get("doneText").asText();
            assertFalse(done.isEmpty());
            assertEquals(done, r.get("ghostShown").asText(), "the ghost text is the server's completion");
            assertEquals(typed, r.get("beforeTab").asText());
            assertEquals(typed + done, r.get("afterTab").asText(), "Tab inserts the completion at the caret");
            assertEquals((typed + done).length(), r.get("caretAfterTab").asInt());
            assertEquals((typed + done).length(), r.at("/afterAcceptComplete/cursor").asInt(),
                    "after Tab the page asks again at the new caret");

            assertLatency(r);
            assertEquals("tiny-qwen2-F16", r.at("/model/model").asText());
            assertEquals("512 tokens per slot", r.at("/model/context").asText());
            assertEquals("2", r.at("/model/slots").asText());
            assertTrue(r.at("/model/FIM").asText().startsWith("yes ("), r.get("model").toString());

            assertEquals("", r.get("ghostAfterEscape").asText(), "Escape dismisses");
            assertEquals(r.get("afterTab").asText(), r.get("afterEscape").asText(), "Escape leaves the text alone");
            assertEquals(0, r.at("/escapeBeforeDebounce/completesSent").asInt(),
                    "Escape within the debounce drops the pending request");
            assertEquals("", r.at("/escapeBeforeDebounce/ghost").asText());

            // At ~100 tokens/s on one thread, 400 tokens are still streaming when the next key arrives.
            JsonNode inFlight = r.get("inFlight");
            assertFalse(inFlight.get("doneBeforeTyping").asBoolean());
            assertTrue(inFlight.get("cancelSent").asBoolean(), "typing cancels the completion in flight");
            assertEquals("cancelled", inFlight.at("/done/finish_reason").asText());
            assertFinalGhostIsTheLatestCompletion(r);
            assertEquals(r.at("/final/editor").asText(), replayDocument(r.get("sent")),
                    "the open/change deltas the page sent rebuild exactly the editor's text");
        }
    }

    @Test
    void withoutFimTokensThePageContinuesThePlainPromptAndAsksForTheApiKey() throws Exception {
        try (var ts = new TestServer("stories260K-F32.gguf", 2, 512, 8, "sekret")) {
            String typed = "Once upon a time, there was a little girl named Lily. She";
            JsonNode r = runPage(ts, "prompt", "sekret", typed);

            assertTrue(r.get("askedForKey").asBoolean());
            assertTrue(r.get("wsUrl").asText().endsWith("/v1/ws?api_key=sekret"), r.get("wsUrl").asText());
            assertEquals(200, r.at("/httpStatuses/~1props").asInt());
            JsonNode complete = r.get("complete");
            assertEquals(typed, complete.get("prompt").asText(), "no FIM tokens: the text before the caret");
            assertNull(complete.get("doc"));
            String done = r.get("doneText").asText();
            assertFalse(done.isEmpty());
            assertEquals(done, r.get("ghostShown").asText());
            assertEquals(typed + done, r.get("afterTab").asText());
            assertEquals("no", r.at("/model/FIM").asText());
            assertLatency(r);
            assertFinalGhostIsTheLatestCompletion(r);
            assertEquals(r.at("/final/editor").asText(), replayDocument(r.get("sent")));
        }
    }

    /** Runs playground-check.mjs on the server's page; skips only when node or Chromium is missing. */
    private static JsonNode runPage(TestServer ts, String name, String key, String text) throws Exception {
        assumeTrue(OpenAiSdkTest.nodeInstalled(), "node is not installed: skipping the playground browser test");
        assumeTrue(Files.isExecutable(CHROMIUM), CHROMIUM + " is missing: skipping the playground browser test");
        assertTrue(Files.isDirectory(OpenAiSdkTest.NODE_DIR.resolve("node_modules/playwright-core")),
                "run `npm ci` in server/src/test/node first (bin/test does)");
        Files.createDirectories(SCREENSHOTS);
        var cmd = new ArrayList<>(List.of("node", "playground-check.mjs", "--url", ts.base() + "/",
                "--screenshot", SCREENSHOTS.resolve(name + ".png").toString(), "--text", text,
                "--chromium", CHROMIUM.toString()));
        if (key != null) {
            cmd.addAll(List.of("--key", key));
        }
        Process p = new ProcessBuilder(cmd).directory(OpenAiSdkTest.NODE_DIR.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the browser check did not finish");
        assertEquals(0, p.exitValue(), out);
        JsonNode r = Json.MAPPER.readTree(out.lines().reduce((a, b) -> b).orElse("{}"));
        assertNull(r.get("failure"), () -> r.path("failure").asText());
        // With a key, the page's first GET /props (no key yet) is refused, and Chromium logs that 401; nothing else.
        var errors = new ArrayList<String>();
        r.get("consoleErrors").forEach(e -> errors.add(e.asText()));
        if (key != null) {
            errors.remove("Failed to load resource: the server responded with a status of 401 (Unauthorized)");
        }
        assertEquals(List.of(), errors, "browser console errors");
        assertTrue(Files.size(Path.of(r.get("screenshot").asText())) > 0);
        return r;
    }

    /** The latency panel shows the client's clock and the server's {@code timings} for the completion. */
    private static void assertLatency(JsonNode r) {
        for (String f : new String[] {"lat-client-first", "lat-client-total", "lat-server-first", "lat-server-total"}) {
            assertTrue(r.at("/latency/" + f).asText().matches("\\d+(\\.\\d)? ms"), f + ": " + r.get("latency"));
        }
        double shownTotal = Double.parseDouble(r.at("/latency/lat-server-total").asText().replace(" ms", ""));
        assertEquals(r.at("/serverTimings/total_ms").asDouble(), shownTotal, 0.51);
        double clientTotal = Double.parseDouble(r.at("/latency/lat-client-total").asText().replace(" ms", ""));
        assertTrue(clientTotal + 1 >= shownTotal, "the client waited at least as long as the server worked");
    }

    private static void assertFinalGhostIsTheLatestCompletion(JsonNode r) {
        JsonNode f = r.get("final");
        assertEquals(48, f.at("/complete/max_tokens").asInt());
        assertFalse(f.get("doneText").asText().isEmpty());
        assertEquals(f.get("doneText").asText(), f.get("ghostShown").asText(),
                "only the latest request's text is shown, never a cancelled one's");
    }

    /** Applies the page's {@code open}/{@code change} messages in order, as the server does. */
    private static String replayDocument(JsonNode sent) {
        StringBuilder doc = null;
        for (JsonNode m : sent) {
            switch (m.get("type").asText()) {
                case "open" -> doc = new StringBuilder(m.get("text").asText());
                case "change" -> {
                    assertNotNull(doc, "change before open");
                    for (JsonNode c : m.get("changes")) {
                        doc.replace(c.get("start").asInt(), c.get("end").asInt(), c.get("text").asText());
                    }
                }
                default -> {
                }
            }
        }
        assertNotNull(doc, "the page never opened its document");
        return doc.toString();
    }
}
