package dev.flint.server.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flint.engine.sched.Completion;
import dev.flint.engine.sched.Job;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.server.ModelService;
import dev.flint.server.chat.ChatTemplate;
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

/** {@code POST /v1/chat/completions}: messages rendered with the model's chat template; SSE when streaming. */
public final class ChatCompletionsHandler {
    private final ModelService service;

    public ChatCompletionsHandler(ModelService service) {
        this.service = service;
    }

    public void handle(Context ctx) throws Exception {
        Params p = new Params(Json.parseObject(ctx.bodyAsBytes()));
        service.metrics().request("openai.chat");
        String rendered = service.chat().render(messages(p));
        // templates that write the BOS text themselves must not get a second one
        String bos = bosText();
        int[] prompt = service.tokenizer().encode(rendered, bos.isEmpty() || !rendered.startsWith(bos), true);
        int maxTokens = p.integer("max_completion_tokens", p.integer("max_tokens", 256, 0, service.contextPerSlot()),
                0, service.contextPerSlot());
        int n = p.integer("n", 1, 1, 16);
        List<String> stop = p.strings("stop", 4);
        boolean stream = p.bool("stream", false);
        boolean includeUsage = stream && p.raw("stream_options") instanceof ObjectNode so
                && so.path("include_usage").asBoolean(false);
        SamplerConfig sampling = SamplingParams.read(p, SamplingParams.openAiDefaults());
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SamplerConfig s = sampling.seed() != null ? sampling.withSeed(sampling.seed() + i) : sampling;
            jobs.add(new Job(prompt, maxTokens, s, stop, false, -1, true, 0, null, 0));
        }
        String id = OpenAiFormat.id("chatcmpl-");
        long created = System.currentTimeMillis() / 1000;
        try (StreamingListener run = new StreamingListener(service, jobs).watchClient(ctx)) {
            if (!stream) {
                Completion[] cs = run.awaitAll();
                ObjectNode body = head(id, created, "chat.completion");
                ArrayNode choices = body.putArray("choices");
                for (int i = 0; i < cs.length; i++) {
                    ObjectNode c = choices.addObject().put("index", i);
                    c.putObject("message").put("role", "assistant").put("content", cs[i].text());
                    c.putNull("logprobs");
                    c.put("finish_reason", OpenAiFormat.finishReason(cs[i].finishReason()));
                }
                body.set("usage", OpenAiFormat.usage(cs));
                ctx.json(body);
                return;
            }
            try (Sse sse = new Sse(ctx)) {
                for (int i = 0; i < n; i++) {
                    ObjectNode first = head(id, created, "chat.completion.chunk");
                    ObjectNode c = first.putArray("choices").addObject().put("index", i);
                    c.putObject("delta").put("role", "assistant").put("content", "");
                    c.putNull("logprobs").putNull("finish_reason");
                    sse.data(Json.write(first));
                }
                Completion[] cs = new Completion[n];
                Object e;
                while ((e = run.next()) != null) {
                    ObjectNode chunk = head(id, created, "chat.completion.chunk");
                    ObjectNode choice = chunk.putArray("choices").addObject();
                    if (e instanceof StreamingListener.Delta d) {
                        choice.put("index", d.index()).putObject("delta").put("content", d.text());
                        choice.putNull("logprobs").putNull("finish_reason");
                    } else if (e instanceof StreamingListener.Done d) {
                        cs[d.index()] = d.completion();
                        choice.put("index", d.index()).putObject("delta");
                        choice.putNull("logprobs")
                                .put("finish_reason", OpenAiFormat.finishReason(d.completion().finishReason()));
                    }
                    sse.data(Json.write(chunk));
                }
                if (includeUsage) {
                    ObjectNode last = head(id, created, "chat.completion.chunk");
                    last.putArray("choices");
                    last.set("usage", OpenAiFormat.usage(cs));
                    sse.data(Json.write(last));
                }
                sse.data("[DONE]");
            } catch (IOException gone) {
                run.cancel();
            }
        }
    }

    private String bosText() {
        var v = service.tokenizer().vocabulary();
        return v.bos() >= 0 ? v.token(v.bos()) : "";
    }

    private ObjectNode head(String id, long created, String object) {
        return Json.object().put("id", id).put("object", object).put("created", created)
                .put("model", service.modelId());
    }

    private static List<ChatTemplate.Message> messages(Params p) {
        JsonNode v = p.raw("messages");
        if (v == null || !v.isArray() || v.isEmpty()) {
            throw ApiException.badParam("messages", "'messages' must be a non-empty array");
        }
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (JsonNode m : v) {
            if (!m.isObject() || !m.path("role").isTextual()) {
                throw ApiException.badParam("messages", "each message needs a string 'role'");
            }
            JsonNode content = m.get("content");
            String text;
            if (content == null || content.isNull()) {
                text = "";
            } else if (content.isTextual()) {
                text = content.textValue();
            } else if (content.isArray()) { // [{type: "text", text: "..."}]
                StringBuilder sb = new StringBuilder();
                for (JsonNode part : content) {
                    if (!"text".equals(part.path("type").asText())) {
                        throw ApiException.badParam("messages", "only text content parts are supported");
                    }
                    sb.append(part.path("text").asText());
                }
                text = sb.toString();
            } else {
                throw ApiException.badParam("messages", "'content' must be a string or an array of text parts");
            }
            out.add(new ChatTemplate.Message(m.get("role").textValue(), text));
        }
        return out;
    }
}
