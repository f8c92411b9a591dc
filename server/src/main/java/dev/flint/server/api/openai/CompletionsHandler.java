package dev.flint.server.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flint.engine.sched.Completion;
import dev.flint.engine.sched.Job;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.server.ModelService;
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
 * {@code POST /v1/completions}: a prompt (string, one-string array or token ids), or with {@code suffix} a FIM
 * prompt; {@code n} choices run as n jobs side by side; {@code stream} sends SSE chunks and {@code data: [DONE]}.
 */
public final class CompletionsHandler {
    private final ModelService service;

    public CompletionsHandler(ModelService service) {
        this.service = service;
    }

    public void handle(Context ctx) throws Exception {
        Params p = new Params(Json.parseObject(ctx.bodyAsBytes()));
        service.metrics().request("openai.completions");
        int[] prompt = prompt(p);
        int maxTokens = p.integer("max_tokens", 16, 0, service.contextPerSlot());
        int n = p.integer("n", 1, 1, 16);
        List<String> stop = p.strings("stop", 4);
        boolean stream = p.bool("stream", false);
        boolean includeUsage = stream && p.raw("stream_options") instanceof ObjectNode so
                && so.path("include_usage").asBoolean(false);
        SamplerConfig sampling = SamplingParams.read(p, SamplingParams.openAiDefaults());
        p.string("model", null);
        boolean ignoreEos = p.bool("ignore_eos", false); // vLLM's and llama.cpp's extension, for benchmarks
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SamplerConfig s = sampling.seed() != null ? sampling.withSeed(sampling.seed() + i) : sampling;
            jobs.add(new Job(prompt, maxTokens, s, stop, ignoreEos, -1, true, 0, null, 0));
        }
        String id = OpenAiFormat.id("cmpl-");
        long created = System.currentTimeMillis() / 1000;
        try (StreamingListener run = new StreamingListener(service, jobs).watchClient(ctx)) {
            if (!stream) {
                Completion[] cs = run.awaitAll();
                ObjectNode body = head(id, created);
                ArrayNode choices = body.putArray("choices");
                for (int i = 0; i < cs.length; i++) {
                    choices.addObject().put("text", cs[i].text()).put("index", i).putNull("logprobs")
                            .put("finish_reason", OpenAiFormat.finishReason(cs[i].finishReason()));
                }
                body.set("usage", OpenAiFormat.usage(cs));
                ctx.json(body);
                return;
            }
            try (Sse sse = new Sse(ctx)) {
                Completion[] cs = new Completion[n];
                Object e;
                while ((e = run.next()) != null) {
                    ObjectNode chunk = head(id, created);
                    ObjectNode choice = chunk.putArray("choices").addObject();
                    if (e instanceof StreamingListener.Delta d) {
                        choice.put("text", d.text()).put("index", d.index()).putNull("logprobs")
                                .putNull("finish_reason");
                    } else if (e instanceof StreamingListener.Done d) {
                        cs[d.index()] = d.completion();
                        choice.put("text", "").put("index", d.index()).putNull("logprobs")
                                .put("finish_reason", OpenAiFormat.finishReason(d.completion().finishReason()));
                    }
                    sse.data(Json.write(chunk));
                }
                if (includeUsage) {
                    ObjectNode last = head(id, created);
                    last.putArray("choices");
                    last.set("usage", OpenAiFormat.usage(cs));
                    sse.data(Json.write(last));
                }
                sse.data("[DONE]");
            } catch (IOException gone) {
                run.cancel(); // the client disconnected: free the slots now
            }
        }
    }

    private ObjectNode head(String id, long created) {
        return Json.object().put("id", id).put("object", "text_completion").put("created", created)
                .put("model", service.modelId());
    }

    private int[] prompt(Params p) {
        JsonNode v = p.raw("prompt");
        String suffix = p.string("suffix", null);
        String text;
        if (v == null) {
            throw ApiException.badParam("prompt", "'prompt' is required");
        } else if (v.isTextual()) {
            text = v.textValue();
        } else if (v.isArray() && v.size() == 1 && v.get(0).isTextual()) {
            text = v.get(0).textValue();
        } else if (v.isArray() && v.size() > 0 && v.get(0).isIntegralNumber() && suffix == null) {
            int[] ids = new int[v.size()];
            int nVocab = service.tokenizer().vocabulary().size();
            for (int i = 0; i < ids.length; i++) {
                JsonNode t = v.get(i);
                if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= nVocab) {
                    throw ApiException.badParam("prompt", "token ids must be integers in [0, " + nVocab + ")");
                }
                ids[i] = t.intValue();
            }
            return ids;
        } else {
            throw ApiException.badParam("prompt", "'prompt' must be a string, an array of one string, or token ids;"
                    + " batches of prompts are not supported, use n or several requests");
        }
        if (suffix != null) {
            int nCtx = service.contextPerSlot();
            return service.fimOrThrow().build(text, suffix, List.of(), "", Math.min(2048, nCtx),
                    p.integer("max_tokens", 16, 0, nCtx), nCtx);
        }
        int[] ids = service.tokenizer().encode(text, true, true);
        if (ids.length == 0) {
            throw ApiException.badParam("prompt", "the prompt is empty");
        }
        return ids;
    }
}
