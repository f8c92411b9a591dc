package dev.flint.server.fim;

import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.tokenizer.Vocabulary;

import java.util.Optional;

/**
 * The FIM tokens of one model: ids from the GGUF metadata ({@code tokenizer.ggml.fim_*_token_id}) when present,
 * else found by spelling through {@link FimFamily}. Absent optional tokens are -1.
 */
public record FimTokens(String family, int prefix, int suffix, int middle, int pad, int repo, int fileSep,
                        boolean suffixFirst) {

    /** Empty when the model has no FIM tokens: infill is then unsupported (HTTP 501). */
    public static Optional<FimTokens> discover(Vocabulary vocab, GgufFile gguf) {
        if (gguf != null) {
            int pre = gguf.getInt("tokenizer.ggml.fim_pre_token_id", -1);
            int suf = gguf.getInt("tokenizer.ggml.fim_suf_token_id", -1);
            int mid = gguf.getInt("tokenizer.ggml.fim_mid_token_id", -1);
            if (valid(vocab, pre) && valid(vocab, suf) && valid(vocab, mid)) {
                return Optional.of(new FimTokens("gguf", pre, suf, mid,
                        gguf.getInt("tokenizer.ggml.fim_pad_token_id", -1),
                        gguf.getInt("tokenizer.ggml.fim_rep_token_id", -1),
                        gguf.getInt("tokenizer.ggml.fim_sep_token_id", -1), false));
            }
        }
        for (FimFamily f : FimFamily.values()) {
            int pre = id(vocab, f.prefix);
            int suf = id(vocab, f.suffix);
            int mid = id(vocab, f.middle);
            if (pre >= 0 && suf >= 0 && mid >= 0) {
                return Optional.of(new FimTokens(f.name().toLowerCase(java.util.Locale.ROOT), pre, suf, mid,
                        id(vocab, f.pad), id(vocab, f.repo), id(vocab, f.fileSep), f.suffixFirst));
            }
        }
        return Optional.empty();
    }

    private static boolean valid(Vocabulary vocab, int id) {
        return id >= 0 && id < vocab.size();
    }

    private static int id(Vocabulary vocab, String text) {
        if (text == null) {
            return -1;
        }
        int id = vocab.tokenId(text);
        return id >= 0 ? id : -1;
    }
}
