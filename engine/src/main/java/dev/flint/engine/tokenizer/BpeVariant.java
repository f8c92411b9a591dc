package dev.flint.engine.tokenizer;

import dev.flint.engine.ModelLoadException;

/**
 * What a {@code tokenizer.ggml.pre} name means for a byte-level BPE vocabulary: its pre-tokenizer and the flags
 * llama.cpp sets with it. Names and flags follow llama_vocab::impl::load.
 */
record BpeVariant(PreTokenizer preTokenizer, boolean ignoreMerges, boolean cleanSpaces, boolean addBos,
                  boolean noBos) {

    static final String SUPPORTED = "default, llama3, llama-v3, llama-bpe, falcon3, deepseek-llm, deepseek-coder, "
            + "deepseek-v3, falcon, mpt, starcoder, gpt-2, phi-2, jina-es, jina-de, gigachat, jina-v1-en, jina-v2-es, "
            + "jina-v2-de, jina-v2-code, roberta-bpe, refact, command-r, qwen2, deepseek-r1-qwen, stablelm2, olmo, "
            + "dbrx, smaug-bpe, poro-chat, chatglm-bpe, viking, jais, tekken, smollm, codeshell, bloom, gpt3-finnish, "
            + "exaone, chameleon, minerva-7b, megrez";

    private static BpeVariant of(PreTokenizer p) {
        return new BpeVariant(p, false, true, false, false);
    }

    private static BpeVariant raw(PreTokenizer p) {
        return new BpeVariant(p, false, false, false, false);
    }

    /** @param pre the metadata value; null or empty means llama.cpp's degraded 'default' */
    static BpeVariant forName(String pre) {
        if (pre == null || pre.isEmpty()) {
            return of(PreTokenizer.DEFAULT);
        }
        return switch (pre) {
            case "default" -> of(PreTokenizer.DEFAULT);
            case "llama3", "llama-v3", "llama-bpe", "falcon3" -> new BpeVariant(PreTokenizer.LLAMA3, true, true, true, false);
            case "deepseek-llm" -> raw(PreTokenizer.DEEPSEEK_LLM);
            case "deepseek-coder" -> raw(PreTokenizer.DEEPSEEK_CODER);
            case "deepseek-v3" -> raw(PreTokenizer.DEEPSEEK3_LLM);
            case "falcon" -> of(PreTokenizer.FALCON);
            case "starcoder", "refact", "codeshell", "exaone", "minerva-7b" -> of(PreTokenizer.STARCODER);
            case "command-r", "smollm" -> raw(PreTokenizer.STARCODER);
            case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
                 "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais" -> of(PreTokenizer.GPT2);
            case "qwen2", "deepseek-r1-qwen" -> raw(PreTokenizer.QWEN2);
            case "stablelm2", "megrez" -> of(PreTokenizer.QWEN2);
            case "dbrx", "smaug-bpe" -> of(PreTokenizer.LLAMA3);
            case "poro-chat" -> raw(PreTokenizer.BLOOM);
            case "bloom", "gpt3-finnish" -> of(PreTokenizer.BLOOM);
            case "chatglm-bpe" -> new BpeVariant(PreTokenizer.LLAMA3, false, true, false, true);
            case "viking" -> raw(PreTokenizer.VIKING);
            case "tekken" -> new BpeVariant(PreTokenizer.TEKKEN, true, false, true, false);
            case "chameleon" -> new BpeVariant(PreTokenizer.CHAMELEON, false, false, true, false);
            default -> throw new ModelLoadException("unknown pre-tokenizer type (tokenizer.ggml.pre): '" + pre
                    + "'; supported: " + SUPPORTED);
        };
    }
}
