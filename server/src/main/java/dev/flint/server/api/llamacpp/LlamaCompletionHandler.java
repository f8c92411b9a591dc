package dev.flint.server.api.llamacpp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flint.engine.sched.Completion;
import dev.flint.engine.sched.Job;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.server.ModelService;
import dev.flint.server.fim.FimPromptBuilder;
import dev.flint.server.fim.SuffixEcho;
import dev.flint.server.http.ApiException;
import dev.flint.server.http.Json;
import dev.flint.server.http.Params;
import dev.flint.server.http.SamplingParams;
import dev.flint.server.http.Sse;
import dev.flint.server.http.StreamingListener;
import io.javalin.http.Context;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * llama.cpp's {@code POST /completion} and {@code POST /infill} with the fields llama.vim and llama.vscode send
 * ({@code input_prefix, input_suffix, input_extra, prompt, n_predict, t_max_prompt_ms, t_max_predict_ms, n_indent,
 * cache_prompt, id_slot, samplers, stream, response_fields}) and the response fields they read ({@code content},
 * {@code timings/*}, {@code tokens_cached}, {@code truncated}, ...). {@code samplers} and {@code t_max_prompt_ms}
 * are accepted and ignored, as llama.cpp's server of the same era does for the latter.
 */
public final class LlamaCompletionHandler {
    private final ModelService service;
    private final boolean infill;

    public LlamaCompletionHandler(ModelService service, boolean infill) {
        this.service = service;
        this.infill = infill;
    }

    public void handle(Context ctx) throws Exception {
        Params p = new Params(Json.parseObject(ctx.bodyAsBytes()));
        service.metrics().request(infill ? "llamacpp.infill" : "llamacpp.completion");
        int nCtx = service.contextPerSlot();
        int nPredict = p.integer("n_predict", -1, -1, 1 << 20);
        int maxTokens = nPredict < 0 ? nCtx : Math.min(nPredict, nCtx);
        int[] prompt = infill ? infillPrompt(p, Math.max(nPredict, 0)) : prompt(p);
        SamplerConfig sampling = SamplingParams.read(p, SamplerConfig.defaults());
        List<String> stop = new ArrayList<>(p.strings("stop", 16));
        // Flint's extensions (llama.cpp ignores unknown fields, so clients may send them to either): off by default
        if (infill && p.bool("stop_at_suffix", false)) {
            SuffixEcho.stopFor(p.string("input_suffix", "")).ifPresent(stop::add);
        }
        int maxLines = p.integer("max_lines", 0, 0, 1 << 16);
        boolean stream = p.bool("stream", false);
        boolean cachePrompt = p.bool("cache_prompt", true);
        int slot = p.integer("id_slot", -1, -1, service.scheduler().slotCount() - 1);
        long maxPredictMs = p.integer("t_max_predict_ms", 0, -1, Integer.MAX_VALUE);
        p.integer("t_max_prompt_ms", -1, -1, Integer.MAX_VALUE);
        int nIndent = p.integer("n_indent", 0, 0, 1 << 16);
        boolean ignoreEos = p.bool("ignore_eos", false);
        List<String> fields = p.strings("response_fields", 64);
        if (p.has("samplers") && !p.raw("samplers").isArray() && !p.raw("samplers").isTextual()) {
            throw ApiException.badParam("samplers", "'samplers' must be an array of names or a string");
        }
        Job job = new Job(prompt, maxTokens, sampling, stop, ignoreEos, slot, cachePrompt,
                Math.max(0, maxPredictMs), null, nIndent, maxLines, SamplingParams.speculation(p));
        try (StreamingListener run = new StreamingListener(service, List.of(job)).watchClient(ctx)) {
            if (!stream) {
                Completion c = run.awaitAll()[0];
                ctx.json(select(result(c, c.text(), prompt, nPredict, sampling), fields));
                return;
            }
            try (Sse sse = new Sse(ctx)) {
                Object e;
                while ((e = run.next()) != null) {
                    if (e instanceof StreamingListener.Delta d) {
                        ObjectNode chunk = Json.object().put("content", d.text()).put("stop", false)
                                .put("id_slot", -1);
                        sse.data(Json.write(chunk));
                    } else if (e instanceof StreamingListener.Done d) {
                        Completion c = d.completion();
                        sse.data(Json.write(select(result(c, "", prompt, nPredict, sampling), fields)));
                    }
                }
            } catch (IOException gone) {
                run.cancel();
            }
        }
    }

    private ObjectNode result(Completion c, String content, int[] prompt, int nPredict, SamplerConfig s) {
        ObjectNode r = Json.object().put("content", content).put("id_slot", c.slot()).put("stop", true)
                .put("model", service.modelId()).put("tokens_predicted", c.generatedTokens())
                .put("tokens_evaluated", prompt.length).put("has_new_line", c.text().contains("\n"))
                .put("truncated", false).put("stop_type", stopType(c)).put("stopping_word", c.stoppingWord())
                .put("tokens_cached", c.cachedTokens() + c.generatedTokens());
        ObjectNode gs = r.putObject("generation_settings");
        gs.put("n_ctx", service.contextPerSlot()).put("n_predict", nPredict).put("temperature", s.temperature())
                .put("top_k", s.topK()).put("top_p", s.topP()).put("min_p", s.minP()).put("model", service.modelId());
        var t = c.timings();
        int promptN = c.promptTokens() - c.cachedTokens();
        ObjectNode tm = r.putObject("timings");
        tm.put("prompt_n", promptN).put("prompt_ms", t.promptMs())
                .put("prompt_per_token_ms", promptN > 0 ? t.promptMs() / promptN : 0)
                .put("prompt_per_second", t.promptMs() > 0 ? promptN * 1000.0 / t.promptMs() : 0)
                .put("predicted_n", c.generatedTokens()).put("predicted_ms", t.predictedMs())
                .put("predicted_per_token_ms", c.generatedTokens() > 0 ? t.predictedMs() / c.generatedTokens() : 0)
                .put("predicted_per_second", t.predictedMs() > 0 ? c.generatedTokens() * 1000.0 / t.predictedMs() : 0);
        return r;
    }

    private static String stopType(Completion c) {
        return switch (c.finishReason()) {
            case EOS -> "eos";
            case STOP -> "word";
            case LENGTH, CONTEXT -> "limit";
            case CANCELLED -> "none";
        };
    }

    /** llama.cpp's {@code response_fields}: keep only the listed paths ("timings/prompt_n"), keyed by path. */
    static ObjectNode select(ObjectNode full, List<String> paths) {
        if (paths.isEmpty()) {
            return full;
        }
        ObjectNode out = Json.object();
        for (String path : paths) {
            JsonNode cur = full;
            for (String k : path.split("/")) {
                cur = cur != null && cur.isObject() ? cur.get(k) : null;
            }
            if (cur != null) {
                out.set(path, cur);
            }
        }
        return out;
    }

    private int[] prompt(Params p) {
        JsonNode v = p.raw("prompt");
        if (v == null) {
            throw ApiException.badParam("prompt", "'prompt' is required");
        }
        int[] ids = MixedPrompt.tokenize(service.tokenizer(), v, true);
        if (ids.length == 0) {
            throw ApiException.badParam("prompt", "the prompt is empty");
        }
        return ids;
    }

    private int[] infillPrompt(Params p, int nPredict) {
        FimPromptBuilder fim = service.fimOrThrow();
        if (!p.has("input_prefix")) {
            throw ApiException.badParam("input_prefix", "\"input_prefix\" is required");
        }
        if (!p.has("input_suffix")) {
            throw ApiException.badParam("input_suffix", "\"input_suffix\" is required");
        }
        String prefix = p.string("input_prefix", "");
        String suffix = p.string("input_suffix", "");
        String prompt = p.string("prompt", "");
        List<FimPromptBuilder.Chunk> extra = new ArrayList<>();
        JsonNode ex = p.raw("input_extra");
        if (ex != null) {
            if (!ex.isArray()) {
                throw ApiException.badParam("input_extra",
                        "\"input_extra\" must be an array of {\"filename\": string, \"text\": string}");
            }
            for (JsonNode chunk : ex) {
                if (!chunk.path("text").isTextual()) {
                    throw ApiException.badParam("input_extra",
                            "extra_context chunk must contain a \"text\" field with a string value");
                }
                if (chunk.has("filename") && !chunk.get("filename").isTextual()) {
                    throw ApiException.badParam("input_extra",
                            "extra_context chunk's \"filename\" field must be a string");
                }
                extra.add(new FimPromptBuilder.Chunk(chunk.path("filename").asText("tmp"), chunk.get("text").asText()));
            }
        }
        int nCtx = service.contextPerSlot();
        int nBatch = Math.min(2048, nCtx);
        return fim.build(prefix, suffix, extra, prompt, nBatch, nPredict, nCtx);
    }
}
