package dev.flint.server.api.openai;

import dev.flint.engine.generate.FinishReason;
import dev.flint.engine.sched.Completion;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flint.server.http.Json;

import java.util.UUID;

/** OpenAI's wire details in one place: ids, finish reasons, usage objects. */
final class OpenAiFormat {
    private OpenAiFormat() {
    }

    static String id(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }

    static String finishReason(FinishReason r) {
        return switch (r) {
            case EOS, STOP, CANCELLED -> "stop";
            case LENGTH, CONTEXT -> "length";
        };
    }

    static ObjectNode usage(Completion... cs) {
        int prompt = cs.length == 0 ? 0 : cs[0].promptTokens();
        int gen = 0;
        int cached = 0;
        for (Completion c : cs) {
            gen += c.generatedTokens();
            cached = Math.max(cached, c.cachedTokens());
        }
        ObjectNode u = Json.object().put("prompt_tokens", prompt).put("completion_tokens", gen)
                .put("total_tokens", prompt + gen);
        u.putObject("prompt_tokens_details").put("cached_tokens", cached);
        return u;
    }
}
