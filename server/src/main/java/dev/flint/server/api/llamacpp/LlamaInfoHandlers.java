package dev.flint.server.api.llamacpp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flint.engine.sched.Scheduler;
import dev.flint.server.ModelService;
import dev.flint.server.http.ApiException;
import dev.flint.server.http.Json;
import dev.flint.server.http.Params;
import io.javalin.http.Context;

/** llama.cpp's small routes: {@code /tokenize}, {@code /detokenize}, {@code /health}, {@code /props}, {@code /slots}. */
public final class LlamaInfoHandlers {
    private final ModelService service;

    public LlamaInfoHandlers(ModelService service) {
        this.service = service;
    }

    public void tokenize(Context ctx) {
        Params p = new Params(Json.parseObject(ctx.bodyAsBytes()));
        JsonNode content = p.raw("content");
        if (content == null) {
            throw ApiException.badParam("content", "'content' is required");
        }
        int[] ids = MixedPrompt.tokenize(service.tokenizer(), content, p.bool("add_special", false));
        boolean pieces = p.bool("with_pieces", false);
        ObjectNode r = Json.object();
        ArrayNode arr = r.putArray("tokens");
        for (int id : ids) {
            if (pieces) {
                arr.addObject().put("id", id).put("piece", service.tokenizer().decode(new int[] {id}));
            } else {
                arr.add(id);
            }
        }
        ctx.json(r);
    }

    public void detokenize(Context ctx) {
        Params p = new Params(Json.parseObject(ctx.bodyAsBytes()));
        JsonNode tokens = p.raw("tokens");
        int nVocab = service.tokenizer().vocabulary().size();
        if (tokens == null || !tokens.isArray()) {
            throw ApiException.badParam("tokens", "'tokens' must be an array of token ids");
        }
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= nVocab) {
                throw ApiException.badParam("tokens", "token ids must be integers in [0, " + nVocab + ")");
            }
            ids[i] = t.intValue();
        }
        ctx.json(Json.object().put("content", service.tokenizer().decode(ids)));
    }

    public void health(Context ctx) {
        ctx.json(Json.object().put("status", "ok"));
    }

    public void props(Context ctx) {
        ObjectNode r = Json.object();
        var o = service.scheduler().options();
        r.putObject("default_generation_settings").put("n_ctx", service.contextPerSlot())
                .put("model", service.modelId()).put("n_predict", -1)
                .put("speculative", o.draftMax() > 0).put("speculative.n_max", o.draftMax())
                .put("speculative.n_min", o.draftMin()).put("speculative.p_min", o.draftPMin());
        r.put("total_slots", service.scheduler().slotCount()).put("model_path", service.modelPath().toString())
                .put("chat_template", service.chat().source()).put("build_info", "flint")
                .put("infill", service.fim().isPresent())
                .put("fim_family", service.fim().map(f -> f.tokens().family()).orElse(null))
                .put("draft_model_path", service.draftModel().map(d -> d.path().toString()).orElse(null));
        ctx.json(r);
    }

    public void slots(Context ctx) {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (Scheduler.SlotState s : service.scheduler().slotStates()) {
            arr.addObject().put("id", s.id()).put("id_task", s.jobId()).put("n_ctx", service.contextPerSlot())
                    .put("is_processing", s.processing()).put("n_cached", s.cachedTokens())
                    .put("n_prompt_tokens", s.promptTokens()).put("n_decoded", s.generatedTokens())
                    .put("n_draft_cached", s.draftCachedTokens());
        }
        ctx.json(arr);
    }
}
