package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The native protocol at /v1/ws (docs/protocol.md) over a real loopback socket. */
class WebSocketProtocolTest {
    static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer(TestServer.model("tiny-qwen2-F16.gguf"), 2, 512, 8, null);
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    @Test
    void helloThenManyRequestsInFlightOnOneSocket() throws Exception {
        try (var c = new WsClient(ts.http, ts.base())) {
            JsonNode hello = c.next();
            assertEquals("hello", hello.get("type").asText());
            assertTrue(hello.get("fim").asBoolean());
            for (int i = 0; i < 3; i++) {
                c.send("{\"type\":\"complete\",\"id\":\"r" + i + "\",\"prompt\":\"def f" + i + "():\",\"max_tokens\":5}");
            }
            Map<String, StringBuilder> text = new HashMap<>();
            Map<String, JsonNode> done = new HashMap<>();
            while (done.size() < 3) {
                JsonNode m = c.next();
                String id = m.path("id").asText();
                switch (m.get("type").asText()) {
                    case "delta" -> text.computeIfAbsent(id, k -> new StringBuilder()).append(m.get("text").asText());
                    case "done" -> done.put(id, m);
                    default -> fail("unexpected " + m);
                }
            }
            for (int i = 0; i < 3; i++) {
                JsonNode d = done.get("r" + i);
                assertEquals("length", d.get("finish_reason").asText());
                assertEquals(5, d.at("/usage/completion_tokens").asInt());
                assertEquals(d.get("text").asText(), text.getOrDefault("r" + i, new StringBuilder()).toString());
                for (String k : new String[] {"queue_ms", "prompt_ms", "first_token_ms", "total_ms"}) {
                    assertTrue(d.at("/timings/" + k).isNumber(), k);
                }
            }
        }
    }

    @Test
    void manyInstantRequestsNeverLeakInFlightEntries() throws Exception {
        // jobs this short can end before submit returns; more than 64 of them used to exhaust the in-flight limit
        try (var c = new WsClient(ts.http, ts.base())) {
            c.next();
            for (int i = 0; i < 150; i++) {
                c.send("{\"type\":\"complete\",\"id\":\"same\",\"prompt\":\"def f():\",\"max_tokens\":" + (i % 2) + "}");
                JsonNode m = c.until(x -> !"delta".equals(x.path("type").asText()));
                assertEquals("done", m.get("type").asText(), m.toString());
            }
        }
    }

    @Test
    void documentSyncLetsACompletionNameADocumentAndCursor() throws Exception {
        try (var c = new WsClient(ts.http, ts.base())) {
            c.next();
            c.send("{\"type\":\"open\",\"id\":\"o\",\"doc\":\"file:///a.py\",\"text\":\"def add(a, b):\\n    \\n\"}");
            assertEquals("ack", c.next().get("type").asText());
            // type "return" at the cursor: an incremental edit, not the whole file
            c.send("{\"type\":\"change\",\"id\":\"e\",\"doc\":\"file:///a.py\",\"changes\":[{\"start\":19,\"end\":19,\"text\":\"return\"}]}");
            assertEquals("ack", c.next().get("type").asText());
            c.send("{\"type\":\"complete\",\"id\":\"c\",\"doc\":\"file:///a.py\",\"cursor\":{\"line\":1,\"character\":10},\"max_tokens\":4}");
            JsonNode d = c.until(WsClient.type("done", "c"));
            String[] parts = new String[] {"def add(a, b):\n    return", "\n"};
            var fim = ts.service.fimOrThrow();
            int[] expected = fim.build(parts[0], parts[1], java.util.List.of(), "", 512, 4, 512);
            assertEquals(expected.length, d.at("/usage/prompt_tokens").asInt());
            c.send("{\"type\":\"close\",\"id\":\"x\",\"doc\":\"file:///a.py\"}");
            assertEquals("ack", c.next().get("type").asText());
            c.send("{\"type\":\"complete\",\"id\":\"c2\",\"doc\":\"file:///a.py\",\"cursor\":0}");
            JsonNode err = c.next();
            assertEquals("error", err.get("type").asText());
            assertTrue(err.get("message").asText().contains("not open"));
        }
    }

    @Test
    void cancelStopsTheEngineAndFreesTheSlot() throws Exception {
        try (var c = new WsClient(ts.http, ts.base())) {
            c.next();
            c.send("{\"type\":\"complete\",\"id\":\"long\",\"prompt\":\"def f():\",\"max_tokens\":400,\"ignore_eos\":true}");
            for (int i = 0; i < 3; i++) {
                c.until(WsClient.type("delta", "long"));
            }
            c.send("{\"type\":\"cancel\",\"id\":\"long\"}");
            JsonNode d = c.until(WsClient.type("done", "long"));
            long after = ts.service.scheduler().decodeSteps();
            assertEquals("cancelled", d.get("finish_reason").asText());
            // the slot is free and the engine does nothing more for it (the bound of one step between the flag and
            // the stop is measured without network jitter in SchedulerTest.cancellingStopsDecodingWithinOneStep)
            Thread.sleep(100);
            assertEquals(after, ts.service.scheduler().decodeSteps(), "no decoding after the done message");
            assertEquals(0, ts.service.scheduler().busySlots());
            assertTrue(d.at("/usage/completion_tokens").asInt() < 400);
        }
    }

    @Test
    void closingTheSocketCancelsItsRequests() throws Exception {
        var c = new WsClient(ts.http, ts.base());
        c.next();
        c.send("{\"type\":\"complete\",\"id\":\"a\",\"prompt\":\"x\",\"max_tokens\":400,\"ignore_eos\":true}");
        c.until(WsClient.type("delta", "a"));
        c.ws.abort();
        long deadline = System.currentTimeMillis() + 5000;
        while (ts.service.scheduler().busySlots() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, ts.service.scheduler().busySlots());
        long steps = ts.service.scheduler().decodeSteps();
        Thread.sleep(100);
        assertEquals(steps, ts.service.scheduler().decodeSteps());
    }

    @Test
    void badMessagesGetErrorMessagesAndTheSocketStaysOpen() throws Exception {
        try (var c = new WsClient(ts.http, ts.base())) {
            c.next();
            String[] bad = {
                "not json", "[1,2]", "{\"type\":\"fly\"}", "{\"id\":\"1\"}", "{\"type\":\"complete\",\"id\":\"1\"}",
                "{\"type\":\"complete\",\"id\":\"1\",\"prompt\":\"a\",\"max_tokens\":-1}",
                "{\"type\":\"complete\",\"id\":\"1\",\"prompt\":\"a\",\"max_tokens\":\"5\"}",
                "{\"type\":\"complete\",\"id\":\"1\",\"prompt\":\"a\",\"max_tokens\":99999999999}",
                "{\"type\":\"complete\",\"id\":\"1\",\"prompt\":\"a\",\"bogus\":1}",
                "{\"type\":\"cancel\",\"id\":\"nope\"}",
                "{\"type\":\"change\",\"doc\":\"d\",\"changes\":[]}",
                "{\"type\":\"complete\",\"id\":\"1\",\"prompt\":\"" + "a ".repeat(600) + "\"}",
            };
            for (String b : bad) {
                c.send(b);
                JsonNode m = c.next();
                assertEquals("error", m.get("type").asText(), b + " -> " + m);
                assertTrue(m.get("status").asInt() >= 400 && m.get("status").asInt() < 600);
                assertFalse(m.get("message").asText().isEmpty());
            }
            c.send("{\"type\":\"ping\",\"id\":\"p\"}");
            assertEquals("pong", c.next().get("type").asText());
            c.send("{\"type\":\"complete\",\"id\":\"ok\",\"prompt\":\"a\",\"max_tokens\":2}");
            assertEquals("length", c.until(WsClient.type("done", "ok")).get("finish_reason").asText());
        }
    }
}
