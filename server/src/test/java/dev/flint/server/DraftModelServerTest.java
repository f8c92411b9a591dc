package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.engine.sched.SchedulerOptions;
import dev.flint.server.http.Json;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** A server given a draft model ({@code flint serve --draft}): same answers, and the speculation shows in its metrics. */
class DraftModelServerTest {
    static final String BODY = "{\"prompt\": \"Once upon a time\", \"n_predict\": 48, \"temperature\": 0}";

    @Test
    void aServerWithADraftModelAnswersAsOneWithoutAndCountsItsDrafts() throws Exception {
        String plain;
        try (var ts = new TestServer(TestServer.model("stories260K-F32.gguf"), 1, 256, 4, null)) {
            plain = Json.MAPPER.readTree(ts.post("/completion", BODY).body()).get("content").asText();
        }
        SchedulerOptions o = new SchedulerOptions(1, 256, 4, 64).withDraftMax(6).withDraftPMin(0f);
        var model = TestServer.model("stories260K-F32.gguf");
        try (var ts = new TestServer(model, o, model, null)) {
            var r = ts.post("/completion", BODY);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(plain, Json.MAPPER.readTree(r.body()).get("content").asText());
            String m = ts.get("/metrics").body();
            double drafted = counter(m, "flint_draft_tokens_total");
            double accepted = counter(m, "flint_draft_tokens_accepted_total");
            assertTrue(drafted > 0, m);
            assertTrue(accepted > 0 && accepted <= drafted, accepted + " of " + drafted);
            assertTrue(counter(m, "flint_draft_model_tokens_computed_total") > 0);
            assertTrue(counter(m, "flint_draft_cache_bytes") > 0);
            JsonNode props = Json.MAPPER.readTree(ts.get("/props").body());
            assertTrue(props.get("draft_model_path").asText().endsWith("stories260K-F32.gguf"));
            assertEquals(6, props.at("/default_generation_settings/speculative.n_max").asInt());
            assertTrue(props.at("/default_generation_settings/speculative").asBoolean());
        }
    }

    @Test
    void aRequestSetsItsOwnSpeculationLimitsUnderLlamaCppsNames() throws Exception {
        SchedulerOptions o = new SchedulerOptions(1, 256, 4, 64).withDraftMax(6).withDraftPMin(0f);
        var model = TestServer.model("stories260K-F32.gguf");
        try (var ts = new TestServer(model, o, model, null)) {
            String off = BODY.replace("}", ", \"speculative.n_max\": 0}");
            var r = ts.post("/completion", off);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(0.0, counter(ts.get("/metrics").body(), "flint_draft_tokens_total"));
            String plain = Json.MAPPER.readTree(r.body()).get("content").asText();
            r = ts.post("/completion", BODY.replace("}", ", \"speculative.n_max\": 3, \"speculative.p_min\": 0.5}"));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(plain, Json.MAPPER.readTree(r.body()).get("content").asText());
            assertTrue(counter(ts.get("/metrics").body(), "flint_draft_tokens_total") > 0);
            for (String bad : new String[] {"\"speculative.n_max\": -2", "\"speculative.p_min\": 1.5",
                    "\"speculative.n_max\": 2, \"speculative.n_min\": 3", "\"speculative.n_min\": \"two\""}) {
                r = ts.post("/completion", BODY.replace("}", ", " + bad + "}"));
                assertEquals(400, r.statusCode(), bad + ": " + r.body());
                assertTrue(r.body().contains("speculative."), r.body());
            }
        }
    }

    static double counter(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*})? (\\S+)$").matcher(metrics);
        assertTrue(m.find(), name + " in\n" + metrics);
        return Double.parseDouble(m.group(1));
    }
}
