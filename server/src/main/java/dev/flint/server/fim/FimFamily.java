package dev.flint.server.fim;

/**
 * The one table of FIM token spellings per model family (anchors §1D). Discovery tries each family in order and
 * takes the first whose prefix, suffix and middle tokens all exist in the vocabulary; the optional tokens (pad, repo,
 * file separator) are then looked up with the same family's spelling. {@code suffixFirst} families put the suffix
 * before the prefix (llama.cpp's {@code --spm-infill}).
 */
public enum FimFamily {
    /** Qwen2.5-Coder; CodeGemma spells its tokens the same way but separates files with {@code <|file_separator|>}. */
    QWEN25_CODER("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>", "<|repo_name|>",
            "<|file_sep|>", false),
    CODEGEMMA("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", null, null, "<|file_separator|>", false),
    /** StarCoder, StarCoder2, CodeQwen1.5, stable-code. */
    STARCODER("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<fim_pad>", "<repo_name>", "<file_sep>", false),
    DEEPSEEK_CODER("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", null, null, null, false),
    /** CodeLlama (SentencePiece: the pieces carry no leading space marker in GGUF vocabularies). */
    CODELLAMA("<PRE>", "<SUF>", "<MID>", null, null, null, false),
    /** Granite, Refact and other hyphenated spellings. */
    HYPHENATED("<fim-prefix>", "<fim-suffix>", "<fim-middle>", "<fim-pad>", "<fim-repo>", null, false),
    /** Codestral: suffix first. */
    CODESTRAL("[PREFIX]", "[SUFFIX]", "[MIDDLE]", null, null, null, true);

    public final String prefix;
    public final String suffix;
    public final String middle;
    public final String pad;
    public final String repo;
    public final String fileSep;
    public final boolean suffixFirst;

    FimFamily(String prefix, String suffix, String middle, String pad, String repo, String fileSep,
              boolean suffixFirst) {
        this.prefix = prefix;
        this.suffix = suffix;
        this.middle = middle;
        this.pad = pad;
        this.repo = repo;
        this.fileSep = fileSep;
        this.suffixFirst = suffixFirst;
    }
}
