package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.server.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** OpenAI-compatible routes over a real loopback socket with the JDK's HttpClient. */
class OpenAiApiTest {
    static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer("stories260K-F32.gguf", 2, 256, 8, null);
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return Json.MAPPER.readTree(r.body());
    }

    @Test
    void completionReturnsTextFinishReasonAndUsage() throws Exception {
        var r = ts.post("/v1/completions", "{\"prompt\":\"Once upon a time\",\"max_tokens\":8,\"temperature\":0}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode b = json(r);
        assertEquals("text_completion", b.get("object").asText());
        assertFalse(b.at("/choices/0/text").asText().isEmpty());
        assertEquals("length", b.at("/choices/0/finish_reason").asText());
        assertEquals(8, b.at("/usage/completion_tokens").asInt());
        assertTrue(b.at("/usage/prompt_tokens").asInt() > 1);
    }

    @Test
    void greedyStreamConcatenatesToTheNonStreamedText() throws Exception {
        String body = "{\"prompt\":\"The little dog\",\"max_tokens\":12,\"temperature\":0%s}";
        String whole = json(ts.post("/v1/completions", body.formatted(""))).at("/choices/0/text").asText();
        var r = ts.post("/v1/completions", body.formatted(",\"stream\":true"));
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.getLast());
        StringBuilder sb = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) {
            sb.append(Json.MAPPER.readTree(e).at("/choices/0/text").asText());
        }
        assertEquals(whole, sb.toString());
    }

    @Test
    void nChoicesRunSideBySide() throws Exception {
        var r = ts.post("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":4,\"n\":3,\"seed\":7}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(3, json(r).get("choices").size());
        assertEquals(12, json(r).at("/usage/completion_tokens").asInt());
    }

    @Test
    void stopStringCutsTheText() throws Exception {
        String whole = json(ts.post("/v1/completions", "{\"prompt\":\"Once upon a time\",\"max_tokens\":20,\"temperature\":0}"))
                .at("/choices/0/text").asText();
        String stop = whole.substring(4, 7);
        var b = json(ts.post("/v1/completions", "{\"prompt\":\"Once upon a time\",\"max_tokens\":20,\"temperature\":0,\"stop\":"
                + Json.write(stop) + "}"));
        assertEquals(whole.substring(0, whole.indexOf(stop)), b.at("/choices/0/text").asText());
        assertEquals("stop", b.at("/choices/0/finish_reason").asText());
    }

    @Test
    void chatCompletionUsesTheTemplateAndStreams() throws Exception {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":6,\"temperature\":0%s}";
        var r = ts.post("/v1/chat/completions", body.formatted(""));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode b = json(r);
        assertEquals("assistant", b.at("/choices/0/message/role").asText());
        assertEquals("chat.completion", b.get("object").asText());
        var s = ts.post("/v1/chat/completions", body.formatted(",\"stream\":true"));
        String text = s.body().lines().filter(l -> l.startsWith("data: {")).map(l -> {
            try {
                return Json.MAPPER.readTree(l.substring(6)).at("/choices/0/delta/content").asText();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }).collect(Collectors.joining());
        assertEquals(b.at("/choices/0/message/content").asText(), text);
    }

    @Test
    void modelsListsTheLoadedModel() throws Exception {
        JsonNode b = json(ts.get("/v1/models"));
        assertEquals("stories260K-F32", b.at("/data/0/id").asText());
    }

    @Test
    void suffixOnAModelWithoutFimTokensIs501() throws Exception {
        var r = ts.post("/v1/completions", "{\"prompt\":\"a\",\"suffix\":\"b\"}");
        assertEquals(501, r.statusCode());
        assertTrue(json(r).at("/error/message").asText().contains("fill-in-the-middle"));
    }

    @Test
    void metricsCountRequestsAndTokens() throws Exception {
        ts.post("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":2}");
        String m = ts.get("/metrics").body();
        assertTrue(m.contains("flint_requests_total{api=\"openai.completions\"}"), m);
        assertTrue(m.contains("flint_generated_tokens_total"));
        assertTrue(m.contains("flint_time_to_first_token_seconds_bucket"));
        assertTrue(m.contains("flint_queue_depth"));
        assertTrue(m.contains("flint_slots_busy"));
        assertTrue(m.contains("flint_cancellations_total"));
    }
}
