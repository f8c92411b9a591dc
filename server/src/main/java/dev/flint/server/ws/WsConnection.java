package dev.flint.server.ws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flint.engine.generate.Cancellation;
import dev.flint.engine.sched.Completion;
import dev.flint.engine.sched.Job;
import dev.flint.engine.sched.JobListener;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.server.ModelService;
import dev.flint.server.fim.FimPromptBuilder;
import dev.flint.server.fim.SuffixEcho;
import dev.flint.server.http.ApiException;
import dev.flint.server.http.Json;
import dev.flint.server.http.Params;
import dev.flint.server.http.SamplingParams;
import io.javalin.websocket.WsContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One client of the native protocol ({@code docs/protocol.md}): its in-flight requests by client id, its open
 * documents and its outbox. Every failure becomes an {@code error} message; the socket stays open.
 */
final class WsConnection {
    static final int MAX_IN_FLIGHT = 64;
    private static final Set<String> COMPLETE_FIELDS = Set.of("type", "id", "prompt", "prefix", "suffix", "doc",
            "cursor", "extra", "max_tokens", "temperature", "top_p", "top_k", "min_p", "repeat_penalty",
            "frequency_penalty", "presence_penalty", "repeat_last_n", "seed", "stop", "t_max_predict_ms", "n_indent",
            "slot", "cache_prompt", "ignore_eos", "max_lines", "stop_at_suffix", "speculative.n_max", "speculative.n_min",
            "speculative.p_min");

    private final ModelService service;
    private final WsContext ctx;
    private final Outbox outbox;
    private final Documents documents = new Documents();
    /** Requests in flight by client id; registered before submission so a job that ends at once cannot leak. */
    private final Map<String, Cancellation> inFlight = new ConcurrentHashMap<>();

    WsConnection(ModelService service, WsContext ctx) {
        this.service = service;
        this.ctx = ctx;
        this.outbox = new Outbox(ctx, this::overflow);
        ObjectNode hello = Json.object().put("type", "hello").put("protocol", 1).put("model", service.modelId())
                .put("n_ctx", service.contextPerSlot()).put("slots", service.scheduler().slotCount())
                .put("fim", service.fim().isPresent());
        outbox.send(Json.write(hello));
    }

    void onMessage(String text) {
        String id = null;
        try {
            ObjectNode msg = Json.parseObject(text);
            JsonNode idNode = msg.get("id");
            if (idNode != null && !idNode.isNull()) {
                if (!idNode.isTextual() && !idNode.isIntegralNumber()) {
                    throw ApiException.badParam("id", "'id' must be a string or an integer");
                }
                id = idNode.asText();
            }
            Params p = new Params(msg);
            String type = p.requireString("type");
            switch (type) {
                case "complete" -> complete(id, p);
                case "cancel" -> cancel(id, p);
                case "open" -> {
                    p.rejectUnknown(Set.of("type", "id", "doc", "text"));
                    documents.open(p.requireString("doc"), p.requireString("text"));
                    ack(id);
                }
                case "change" -> change(id, p);
                case "close" -> {
                    p.rejectUnknown(Set.of("type", "id", "doc"));
                    documents.close(p.requireString("doc"));
                    ack(id);
                }
                case "ping" -> outbox.send(Json.write(withId(Json.object().put("type", "pong"), id)));
                default -> throw ApiException.badParam("type", "unknown message type '" + type
                        + "'; expected complete, cancel, open, change, close or ping");
            }
        } catch (ApiException e) {
            error(id, e);
        } catch (RuntimeException e) {
            error(id, new ApiException(500, "server_error", "internal error: " + e, null));
        }
    }

    void onBinary() {
        error(null, ApiException.badRequest("binary messages are not part of the protocol; send JSON text"));
    }

    /** The socket closed: cancel everything this client asked for, freeing the slots within one step. */
    void onClose() {
        inFlight.values().forEach(Cancellation::cancel);
        inFlight.clear();
        outbox.close();
    }

    private void overflow() {
        inFlight.values().forEach(Cancellation::cancel);
        inFlight.clear();
        try {
            ctx.closeSession(1008, "client is not reading its messages");
        } catch (RuntimeException ignored) {
            // already gone
        }
    }

    private void complete(String id, Params p) {
        p.rejectUnknown(COMPLETE_FIELDS);
        if (id == null) {
            throw ApiException.badParam("id", "'id' is required for complete");
        }
        if (inFlight.containsKey(id)) {
            throw ApiException.badParam("id", "request '" + id + "' is already in flight");
        }
        if (inFlight.size() >= MAX_IN_FLIGHT) {
            throw new ApiException(429, "too_many_requests", "at most " + MAX_IN_FLIGHT
                    + " requests in flight per connection", null);
        }
        int nCtx = service.contextPerSlot();
        int maxTokens = p.integer("max_tokens", 128, 0, nCtx);
        String[] suffix = new String[1];
        int[] prompt = prompt(p, maxTokens, suffix);
        SamplerConfig sampling = SamplingParams.read(p, SamplerConfig.greedy());
        Cancellation cancellation = new Cancellation();
        List<String> stop = new ArrayList<>(p.strings("stop", 16));
        if (p.bool("stop_at_suffix", true) && suffix[0] != null) {
            SuffixEcho.stopFor(suffix[0]).ifPresent(stop::add);
        }
        Job job = new Job(prompt, maxTokens, sampling, stop, p.bool("ignore_eos", false),
                p.integer("slot", -1, -1, service.scheduler().slotCount() - 1), p.bool("cache_prompt", true),
                p.integer("t_max_predict_ms", 0, 0, Integer.MAX_VALUE), cancellation,
                p.integer("n_indent", 0, 0, 1 << 16), p.integer("max_lines", 0, 0, 1 << 16),
                SamplingParams.speculation(p));
        String rid = id;
        inFlight.put(id, cancellation);
        try {
            service.submit(job, new JobListener() {
                @Override
                public void onDelta(int token, String text) {
                    if (!text.isEmpty()) {
                        outbox.send(Json.write(Json.object().put("type", "delta").put("id", rid).put("text", text)));
                    }
                }

                @Override
                public void onDone(Completion c) {
                    inFlight.remove(rid, cancellation);
                    outbox.send(Json.write(done(rid, c)));
                }
            });
        } catch (RuntimeException e) {
            inFlight.remove(id, cancellation);
            throw e;
        }
        service.metrics().request("ws.complete");
    }

    /** The prompt's tokens; for a fill-in-the-middle request, {@code suffixOut[0]} receives the suffix text. */
    private int[] prompt(Params p, int maxTokens, String[] suffixOut) {
        boolean fimRequest = p.has("doc") || p.has("prefix") || p.has("suffix");
        String prompt = p.string("prompt", fimRequest ? "" : null);
        if (!fimRequest) {
            if (prompt == null || prompt.isEmpty()) {
                throw ApiException.badParam("prompt", "give 'prompt', or 'prefix'/'suffix', or 'doc' and 'cursor'");
            }
            return service.tokenizer().encode(prompt, true, true);
        }
        String prefix;
        String suffix;
        if (p.has("doc")) {
            String doc = p.requireString("doc");
            JsonNode cursor = p.raw("cursor");
            int offset;
            if (cursor != null && cursor.isIntegralNumber()) {
                offset = cursor.intValue();
            } else if (cursor != null && cursor.isObject() && cursor.path("line").isIntegralNumber()
                    && cursor.path("character").isIntegralNumber()) {
                offset = documents.offset(doc, cursor.get("line").intValue(), cursor.get("character").intValue());
            } else {
                throw ApiException.badParam("cursor", "'cursor' must be a UTF-16 offset or {line, character}");
            }
            String[] parts = documents.split(doc, offset);
            prefix = parts[0];
            suffix = parts[1];
        } else {
            prefix = p.string("prefix", "");
            suffix = p.string("suffix", "");
        }
        List<FimPromptBuilder.Chunk> extra = new ArrayList<>();
        JsonNode ex = p.raw("extra");
        if (ex != null) {
            if (!ex.isArray()) {
                throw ApiException.badParam("extra", "'extra' must be an array of {filename, text}");
            }
            for (JsonNode c : ex) {
                if (!c.path("text").isTextual()) {
                    throw ApiException.badParam("extra", "each extra chunk needs a string 'text'");
                }
                extra.add(new FimPromptBuilder.Chunk(c.path("filename").asText("tmp"), c.get("text").asText()));
            }
        }
        int nCtx = service.contextPerSlot();
        suffixOut[0] = suffix;
        return service.fimOrThrow().build(prefix, suffix, extra, prompt, Math.min(2048, nCtx), maxTokens, nCtx);
    }

    private void change(String id, Params p) {
        p.rejectUnknown(Set.of("type", "id", "doc", "changes", "text"));
        String doc = p.requireString("doc");
        if (p.has("text")) {
            documents.open(doc, p.requireString("text")); // full replacement
            ack(id);
            return;
        }
        documents.length(doc); // fails for a document that is not open, even with no changes
        JsonNode changes = p.raw("changes");
        if (changes == null || !changes.isArray()) {
            throw ApiException.badParam("changes", "'changes' must be an array of {start, end, text}");
        }
        for (JsonNode c : changes) {
            if (!c.path("start").isIntegralNumber() || !c.path("end").isIntegralNumber()
                    || !c.path("text").isTextual()) {
                throw ApiException.badParam("changes", "each change needs integer 'start', 'end' and string 'text'");
            }
            documents.change(doc, c.get("start").intValue(), c.get("end").intValue(), c.get("text").textValue());
        }
        ack(id);
    }

    private void cancel(String id, Params p) {
        p.rejectUnknown(Set.of("type", "id"));
        if (id == null) {
            throw ApiException.badParam("id", "'id' is required for cancel");
        }
        Cancellation t = inFlight.get(id);
        if (t == null) {
            throw new ApiException(404, "unknown_request", "no request '" + id + "' in flight (it may have finished)",
                    "id");
        }
        t.cancel(); // checked before the scheduler's next step; the 'done' with finish_reason "cancelled" follows
    }

    private void ack(String id) {
        if (id != null) {
            outbox.send(Json.write(Json.object().put("type", "ack").put("id", id)));
        }
    }

    private static ObjectNode done(String id, Completion c) {
        ObjectNode m = Json.object().put("type", "done").put("id", id)
                .put("finish_reason", c.finishReason().name().toLowerCase()).put("text", c.text());
        if (c.failed()) {
            m.put("error", c.error());
        }
        m.putObject("usage").put("prompt_tokens", c.promptTokens()).put("cached_tokens", c.cachedTokens())
                .put("completion_tokens", c.generatedTokens());
        var t = c.timings();
        m.putObject("timings").put("queue_ms", t.queueMs()).put("prompt_ms", t.promptMs())
                .put("first_token_ms", t.firstTokenMs()).put("predicted_ms", t.predictedMs())
                .put("total_ms", t.totalMs());
        return m;
    }

    private void error(String id, ApiException e) {
        ObjectNode m = Json.object().put("type", "error");
        withId(m, id);
        m.put("status", e.status()).put("code", e.type()).put("message", e.getMessage());
        if (e.param() != null) {
            m.put("param", e.param());
        }
        outbox.send(Json.write(m));
    }

    private static ObjectNode withId(ObjectNode m, String id) {
        if (id != null) {
            m.put("id", id);
        }
        return m;
    }
}
