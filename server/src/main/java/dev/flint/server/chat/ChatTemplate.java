package dev.flint.server.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders chat messages into a prompt with the model's own Jinja template ({@code tokenizer.chat_template} in the
 * GGUF) through Jinjava. Models without one get {@link #CHATML}, the format of Qwen, SmolLM and most small chat
 * models.
 */
public final class ChatTemplate {
    /** The fallback: ChatML with an assistant turn opened at the end. */
    public static final String CHATML = "{% for message in messages %}"
            + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public record Message(String role, String content) {
    }

    private final String source;
    private final boolean fallback;
    private final String bos;
    private final String eos;
    private final Jinjava jinjava;

    public ChatTemplate(String source, String bos, String eos) {
        this.fallback = source == null || source.isBlank();
        this.source = fallback ? CHATML : source;
        this.bos = bos;
        this.eos = eos;
        // as Hugging Face's apply_chat_template configures Jinja: trim_blocks, lstrip_blocks, and {{- -}} trimming
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withFailOnUnknownTokens(false)
                .withLegacyOverrides(LegacyOverrides.newBuilder().withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true).withUseNaturalOperatorPrecedence(true)
                        .withAllowAdjacentTextNodes(true).withKeepNullableLoopValues(true).build())
                .build());
    }

    public String source() {
        return source;
    }

    public boolean isFallback() {
        return fallback;
    }

    public String render(List<Message> messages) {
        Map<String, Object> ctx = new HashMap<>();
        ctx.put("messages", messages.stream().map(m -> Map.of("role", m.role(), "content", m.content())).toList());
        ctx.put("add_generation_prompt", true);
        ctx.put("bos_token", bos);
        ctx.put("eos_token", eos);
        RenderResult r = jinjava.renderForResult(source, ctx);
        if (r.hasErrors() && r.getOutput().isEmpty()) {
            throw new IllegalStateException("the chat template failed: " + r.getErrors().getFirst().getMessage());
        }
        return r.getOutput();
    }
}
