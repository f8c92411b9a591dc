package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.server.chat.ChatTemplate;
import dev.flint.server.http.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Chat templates from the GGUF, rendered by Jinjava: Qwen2.5's real template, and the ChatML fallback. */
class ChatTemplateTest {
    static String qwenTemplate() throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/qwen2.5-chat-template.jinja")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static final String EXPECTED = "<|im_start|>system\nBe brief.<|im_end|>\n"
            + "<|im_start|>user\nWrite fib.<|im_end|>\n<|im_start|>assistant\n";

    @Test
    void qwenTemplateRendersAsTransformersDoes() throws Exception {
        var t = new ChatTemplate(qwenTemplate(), "", "<|endoftext|>");
        assertEquals(EXPECTED, t.render(List.of(new ChatTemplate.Message("system", "Be brief."),
                new ChatTemplate.Message("user", "Write fib."))));
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                t.render(List.of(new ChatTemplate.Message("user", "hi"))));
    }

    @Test
    void modelsWithoutATemplateGetChatMl() {
        var t = new ChatTemplate(null, "", "");
        assertTrue(t.isFallback());
        assertEquals("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                t.render(List.of(new ChatTemplate.Message("user", "hi"))));
    }

    @Test
    void theServerUsesTheTemplateStoredInTheGguf() throws Exception {
        String tpl = qwenTemplate();
        var model = F32Fixture.of("tiny-qwen2-F16.gguf", "chat", w -> w.putString("tokenizer.chat_template", tpl));
        try (var ts = new TestServer(model, 1, 256, 2, null)) {
            assertEquals(tpl, Json.MAPPER.readTree(ts.get("/props").body()).get("chat_template").asText());
            var r = ts.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                    + "{\"role\":\"user\",\"content\":\"Write fib.\"}],\"max_tokens\":2,\"temperature\":0}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode b = Json.MAPPER.readTree(r.body());
            int expected = ts.service.tokenizer().encode(EXPECTED, true, true).length;
            assertEquals(expected, b.at("/usage/prompt_tokens").asInt());
        }
    }
}
