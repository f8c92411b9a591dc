package dev.flint.server.api.llamacpp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.engine.tokenizer.Tokenizer;
import dev.flint.server.http.ApiException;

import java.util.ArrayList;
import java.util.List;

/** llama.cpp's prompt forms: a string, or a mixed array of strings and token ids ({@code [12, 34, "text", 56]}). */
final class MixedPrompt {
    private MixedPrompt() {
    }

    static int[] tokenize(Tokenizer tk, JsonNode v, boolean addSpecial) {
        int nVocab = tk.vocabulary().size();
        if (v.isTextual()) {
            return tk.encode(v.textValue(), addSpecial, true);
        }
        if (!v.isArray()) {
            throw ApiException.badParam("prompt", "'prompt' must be a string or an array of strings and token ids");
        }
        List<Integer> out = new ArrayList<>();
        boolean first = true;
        for (JsonNode e : v) {
            if (e.isTextual()) {
                for (int t : tk.encode(e.textValue(), addSpecial && first, true)) {
                    out.add(t);
                }
            } else if (e.isIntegralNumber() && e.asLong() >= 0 && e.asLong() < nVocab) {
                out.add(e.intValue());
            } else {
                throw ApiException.badParam("prompt", "prompt entries must be strings or token ids in [0, "
                        + nVocab + ")");
            }
            first = false;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
