package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.server.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/** llama.cpp-compatible routes, with the request bodies llama.vim and llama.vscode send. */
class LlamaCppApiTest {
    static TestServer ts;

    /** llama.vim's /infill body (llama.vim autoload/llama.vim, fim request), with its response_fields. */
    static final String LLAMA_VIM = """
            {"id_slot": 0,
             "input_prefix": "#include <cstdio>\\n\\nint main() {\\n",
             "input_suffix": "}\\n",
             "input_extra": [{"text": "int llama_n_threads();\\n", "time": 1700000000, "filename": "llama.h"}],
             "prompt": "    int n_threads = llama_",
             "n_predict": 16, "stop": [], "n_indent": 4, "top_k": 40, "top_p": 0.90,
             "samplers": ["top_k", "top_p", "infill"], "stream": false, "cache_prompt": true,
             "t_max_prompt_ms": 500, "t_max_predict_ms": 1000,
             "response_fields": ["content", "timings/prompt_n", "timings/prompt_ms", "timings/prompt_per_token_ms",
                                 "timings/prompt_per_second", "timings/predicted_n", "timings/predicted_ms",
                                 "timings/predicted_per_token_ms", "timings/predicted_per_second", "truncated",
                                 "tokens_cached"]}""";

    /** llama.vscode's /infill body (src/llama-server.ts): no response_fields, reads content and timings. */
    static final String LLAMA_VSCODE = """
            {"input_prefix": "def fib(n):\\n", "input_suffix": "\\n", "input_extra": [],
             "prompt": "    ", "n_predict": 16, "top_k": 40, "top_p": 0.99, "stream": false, "samplers": ["top_k", "top_p", "infill"],
             "cache_prompt": true, "t_max_prompt_ms": 500, "t_max_predict_ms": 2500}""";

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer(TestServer.model("tiny-qwen2-F16.gguf"), 2, 512, 8, null);
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s);
    }

    @Test
    void llamaVimInfillGetsTheFieldsItAskedForKeyedByPath() throws Exception {
        var r = ts.post("/infill", LLAMA_VIM);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode b = json(r.body());
        assertTrue(b.has("content"));
        assertTrue(b.get("timings/prompt_n").asInt() > 0);
        assertTrue(b.has("timings/predicted_per_second"));
        assertFalse(b.get("truncated").asBoolean());
        assertTrue(b.has("tokens_cached"));
        assertFalse(b.has("model"), "only the requested fields");
        // the same request again reuses the slot's cache
        JsonNode again = json(ts.post("/infill", LLAMA_VIM).body());
        assertTrue(again.get("timings/prompt_n").asInt() <= 1, again.toString());
    }

    @Test
    void llamaVimRingBufferWarmUpWithNPredictZeroFillsTheCacheOnly() throws Exception {
        // llama.vim sends its extra-context chunks ahead of time with n_predict 0 so the next keystroke is cached
        String warm = LLAMA_VIM.replace("\"n_predict\": 16", "\"n_predict\": 0").replace("\"id_slot\": 0", "\"id_slot\": 1");
        JsonNode b = json(ts.post("/infill", warm).body());
        assertEquals("", b.get("content").asText());
        assertEquals(0, b.get("timings/predicted_n").asInt());
        JsonNode again = json(ts.post("/infill", warm.replace("\"n_predict\": 0", "\"n_predict\": 4")).body());
        assertTrue(again.get("timings/prompt_n").asInt() <= 1, again.toString());
    }

    @Test
    void aKeystrokeBeforeAnUnchangedSuffixRecomputesNeitherPrefixNorSuffix() throws Exception {
        StringBuilder suffix = new StringBuilder("\n");
        for (int i = 0; i < 12; i++) {
            suffix.append("\ndef helper_").append(i).append("(value):\n    return value * ").append(i).append('\n');
        }
        String body = "{\"input_prefix\": %s, \"input_suffix\": %s, \"n_predict\": %d, \"id_slot\": 0,"
                + " \"cache_prompt\": true}";
        String prefix = "import math\n\ndef area(radius):\n    return math.pi * radius";
        var first = ts.post("/infill", body.formatted(Json.MAPPER.writeValueAsString(prefix),
                Json.MAPPER.writeValueAsString(suffix.toString()), 0));
        assertEquals(200, first.statusCode(), first.body());
        long computedBefore = ts.service.scheduler().promptTokensComputed();
        var second = json(ts.post("/infill", body.formatted(Json.MAPPER.writeValueAsString(prefix + " * radius"),
                Json.MAPPER.writeValueAsString(suffix.toString()), 4)).body());
        int evaluated = second.get("tokens_evaluated").asInt();
        int computed = second.at("/timings/prompt_n").asInt();
        assertTrue(evaluated > 100, "a long prompt: " + evaluated);
        assertTrue(computed <= 6, "only the typed tokens (and the FIM middle token) are computed: " + computed);
        assertEquals(computed, ts.service.scheduler().promptTokensComputed() - computedBefore);
        assertTrue(ts.service.scheduler().promptTokensMoved() > 90, "the suffix moved instead");
        assertTrue(ts.get("/metrics").body().lines().anyMatch(l -> l.startsWith("flint_prompt_tokens_moved_total")
                && !l.endsWith(" 0.0")));
    }

    @Test
    void llamaVscodeInfillGetsContentAndTimings() throws Exception {
        var r = ts.post("/infill", LLAMA_VSCODE);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode b = json(r.body());
        assertTrue(b.has("content"));
        assertTrue(b.at("/timings/prompt_ms").isNumber());
        assertTrue(b.at("/timings/predicted_n").isInt());
        assertEquals(512, b.at("/generation_settings/n_ctx").asInt());
        assertTrue(b.get("stop").asBoolean());
    }

    @Test
    void infillPromptIsLaidOutWithTheModelsFimTokens() throws Exception {
        var fim = ts.service.fimOrThrow();
        assertEquals("deepseek_coder", fim.tokens().family());
        int[] p = fim.build("a = 1\n", "\nprint(a)", java.util.List.of(new dev.flint.server.fim.FimPromptBuilder.Chunk("x.py", "x = 2")),
                "", 2048, 16, 512);
        String text = ts.service.tokenizer().decode(p, false, true);
        int pre = text.indexOf("<｜fim▁begin｜>");
        int hole = text.indexOf("<｜fim▁hole｜>");
        int end = text.indexOf("<｜fim▁end｜>");
        assertTrue(text.indexOf("x = 2") < pre && pre < hole && hole < end, text);
        assertEquals(fim.tokens().middle(), p[p.length - 1]);
    }

    @Test
    void streamedCompletionEndsWithStopTrueAndTimings() throws Exception {
        var r = ts.post("/completion", "{\"prompt\":\"def add(a, b):\",\"n_predict\":6,\"stream\":true}");
        assertEquals(200, r.statusCode());
        var events = r.body().lines().filter(l -> l.startsWith("data: ")).toList();
        JsonNode last = json(events.getLast().substring(6));
        assertTrue(last.get("stop").asBoolean());
        assertEquals(6, last.at("/timings/predicted_n").asInt());
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() throws Exception {
        JsonNode t = json(ts.post("/tokenize", "{\"content\":\"def main():\"}").body());
        assertTrue(t.get("tokens").size() > 1);
        JsonNode d = json(ts.post("/detokenize", "{\"tokens\":" + t.get("tokens") + "}").body());
        assertEquals("def main():", d.get("content").asText());
    }

    @Test
    void healthPropsAndSlots() throws Exception {
        assertEquals("ok", json(ts.get("/health").body()).get("status").asText());
        JsonNode props = json(ts.get("/props").body());
        assertEquals(2, props.get("total_slots").asInt());
        assertEquals(512, props.at("/default_generation_settings/n_ctx").asInt());
        assertEquals(2, json(ts.get("/slots").body()).size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "{\"filename\": \"ok\"}", "{\"filename\": 123}", "{\"filename\": 123, \"text\": \"abc\"}",
            "{\"filename\": 123, \"text\": 456}"})
    void invalidInputExtraIs400(String chunk) throws Exception {
        var r = ts.post("/infill", "{\"input_extra\": [" + chunk + "], \"input_prefix\": \"a\", \"input_suffix\": \"b\"}");
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(json(r.body()).has("error"));
    }

    @Test
    void infillWithoutPrefixIs400() throws Exception {
        assertEquals(400, ts.post("/infill", "{\"input_suffix\": \"b\"}").statusCode());
    }

    @Test
    void infillOnAModelWithoutFimTokensIs501() throws Exception {
        try (var spm = new TestServer(TestServer.model("tiny-llama-spm-Q8_0.gguf"), 1, 128, 2, null)) {
            var r = spm.post("/infill", LLAMA_VSCODE);
            assertEquals(501, r.statusCode());
            assertEquals(501, json(r.body()).at("/error/code").asInt());
        }
    }

    @Test
    void starcoderFimTokensAreFoundByTheFamilyTable() throws Exception {
        try (var sc = new TestServer(TestServer.model("tiny-starcoder2-BF16.gguf"), 1, 256, 2, null)) {
            var fim = sc.service.fimOrThrow();
            assertTrue(fim.tokens().family().equals("starcoder") || fim.tokens().family().equals("gguf"),
                    fim.tokens().family());
            assertEquals(200, sc.post("/infill", LLAMA_VSCODE).statusCode());
        }
    }
}
