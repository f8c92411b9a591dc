package dev.flint.lsp;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.concurrent.TimeUnit;

/**
 * The reference: the same fill-in-the-middle request sent straight to the server with {@code prefix} and
 * {@code suffix} on a socket of its own (no documents, no bridge), greedy as the bridge's are.
 */
final class DirectFim {
    private DirectFim() {
    }

    static String complete(String serverUrl, String prefix, String suffix, LspOptions o, int nIndent)
            throws Exception {
        try (FlintSocket s = FlintSocket.connect(Backend.webSocketUri(serverUrl), null, m -> { })) {
            ObjectNode m = FlintSocket.JSON.createObjectNode().put("type", "complete").put("id", "direct")
                    .put("prefix", prefix).put("suffix", suffix).put("max_tokens", o.maxTokens())
                    .put("n_indent", nIndent);
            if (o.tMaxPredictMs() > 0) {
                m.put("t_max_predict_ms", o.tMaxPredictMs());
            }
            o.stop().forEach(m.putArray("stop")::add);
            return s.complete(m).get(60, TimeUnit.SECONDS).path("text").asText();
        }
    }

    /** {@code text} split at a zero-based line and character (lines end at {@code \n}). */
    static String[] split(String text, int line, int character) {
        int pos = 0;
        for (int l = 0; l < line; l++) {
            pos = text.indexOf('\n', pos) + 1;
        }
        return new String[] {text.substring(0, pos + character), text.substring(pos + character)};
    }
}
