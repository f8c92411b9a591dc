package dev.flint.cli.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * llama.cpp's {@code POST /infill} with the body llama.vim's {@code llama#fim} sends (autoload/llama.vim), except
 * {@code stream: true} so the first token can be timed, {@code tokens_evaluated} added to {@code response_fields}
 * so reuse can be counted exactly (reused = {@code tokens_evaluated} − {@code timings/prompt_n}), and an optional
 * {@code temperature}. No ring-buffer chunks: {@code input_extra} is empty. One connection per request; a cancel
 * closes it, as llama.vim stopping its curl job does.
 */
final class InfillTransport implements Transport {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> RESPONSE_FIELDS = List.of("content", "timings/prompt_n", "timings/prompt_ms",
            "timings/prompt_per_token_ms", "timings/prompt_per_second", "timings/predicted_n", "timings/predicted_ms",
            "timings/predicted_per_token_ms", "timings/predicted_per_second", "truncated", "tokens_cached",
            "tokens_evaluated");

    private final ReplaySettings settings;

    InfillTransport(ReplaySettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(String doc) {
        // Stateless: every request carries its own context.
    }

    /** The JSON body for the editor state {@code doc} with the cursor at {@code cursor}. */
    static ObjectNode body(ReplaySettings s, String doc, int cursor) {
        LocalContext c = LocalContext.at(doc, cursor, s.nPrefix(), s.nSuffix());
        ObjectNode b = JSON.createObjectNode();
        b.put("input_prefix", c.prefix()).put("input_suffix", c.suffix());
        b.putArray("input_extra");
        b.put("prompt", c.middle()).put("n_predict", s.nPredict());
        b.putArray("stop");
        b.put("n_indent", c.indent()).put("top_k", 40).put("top_p", 0.90).put("stream", true);
        b.putArray("samplers").add("top_k").add("top_p").add("infill");
        b.put("cache_prompt", true).put("t_max_prompt_ms", s.tMaxPromptMs()).put("t_max_predict_ms", s.tMaxPredictMs());
        RESPONSE_FIELDS.forEach(b.putArray("response_fields")::add);
        if (s.temperature() != null) {
            b.put("temperature", s.temperature());
        }
        return b;
    }

    @Override
    public Attempt send(int key, String typed, int at, String doc, int cursor) throws IOException {
        byte[] body = JSON.writeValueAsBytes(body(settings, doc, cursor));
        Attempt a = new Attempt(key, typed);
        Thread.ofVirtual().name("replay-infill-" + key).start(() -> exchange(a, body));
        return a;
    }

    private void exchange(Attempt a, byte[] body) {
        HttpSse http = null;
        try {
            http = HttpSse.connect(settings.infill(), settings.timeoutMs());
            HttpSse h = http;
            a.onCancel(h::close);
            if (!a.pending()) {
                h.close(); // cancelled while connecting
                a.closed();
                return;
            }
            h.post(settings.infill(), settings.apiKey(), body);
            if (h.status != 200) {
                a.fail("HTTP " + h.status + " from " + settings.infill() + ": " + errorMessage(h.readAll()));
                return;
            }
            StringBuilder text = new StringBuilder();
            String line;
            while ((line = h.readLine()) != null) {
                if (line.startsWith("error:")) {
                    a.fail("the server reported an error: " + errorMessage(line.substring(6).trim()));
                    return;
                }
                if (!line.startsWith("data:")) {
                    continue; // blank separators, comments
                }
                JsonNode ev = JSON.readTree(line.substring(5).trim());
                if (ev.has("error")) {
                    a.fail("the server reported an error: " + errorMessage(ev.toString()));
                    return;
                }
                if (ev.path("stop").isBoolean() && !ev.get("stop").booleanValue()) {
                    a.firstToken(); // a partial result: one sampled token
                    text.append(ev.path("content").asText(""));
                    continue;
                }
                // The final result, filtered by response_fields (keys are the paths) or whole (nested).
                int promptN = field(ev, "timings/prompt_n");
                int evaluated = field(ev, "tokens_evaluated");
                int predicted = field(ev, "timings/predicted_n");
                int cached = field(ev, "tokens_cached");
                int promptTokens = evaluated;
                int reused = evaluated >= 0 && promptN >= 0 ? evaluated - promptN : -1;
                if (reused < 0 && cached >= 0 && predicted >= 0 && promptN >= 0) {
                    reused = Math.max(0, cached - predicted); // servers that ignore tokens_evaluated
                    promptTokens = reused + promptN;
                }
                text.append(ev.path("content").asText(""));
                a.finish(ev.path("stop_type").asText("stop"), text.toString(), promptTokens, reused, predicted);
                return;
            }
            if (a.pending()) {
                a.fail("the server closed the stream before the final result");
            }
        } catch (IOException e) {
            if (a.pending()) {
                a.fail("request to " + settings.infill() + " failed: " + e.getMessage());
            }
        } finally {
            if (http != null) {
                http.close();
            }
            a.closed();
        }
    }

    private static int field(JsonNode ev, String path) {
        JsonNode v = ev.get(path);
        if (v == null) {
            v = ev.at("/" + path);
        }
        return v.isNumber() ? v.intValue() : -1;
    }

    private static String errorMessage(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            JsonNode m = n.at("/error/message");
            if (m.isTextual()) {
                return m.asText();
            }
        } catch (IOException ignored) {
            // not JSON: show it as it is
        }
        return body.length() > 300 ? body.substring(0, 300) + "..." : body;
    }

    @Override
    public void close() {
        // Connections belong to their requests.
    }
}
