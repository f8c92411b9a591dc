package dev.flint.cli.synth;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The exact shapes and metadata of real models, for writing random-weight files that cost what the real ones cost.
 * Values are those of the models' published GGUF conversions.
 *
 * @param vocabFixture the fixture vocabulary whose tokenizer fields the file copies (padded to {@code vocab})
 */
public record ModelShape(String name, String arch, int embd, int layers, int heads, int headsKv, int ff, int vocab,
                         int ctx, float ropeBase, float normEps, boolean tiedOutput, boolean qkvBias,
                         boolean allBiases, float ropeLinearFactor, boolean llama3RopeFreqs, String vocabFixture) {

    public static final Map<String, ModelShape> KNOWN = Arrays.stream(new ModelShape[] {
            new ModelShape("qwen2.5-coder-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936, 32768, 1_000_000f, 1e-6f,
                    true, true, false, 0f, false, "ggml-vocab-qwen2.gguf"),
            new ModelShape("qwen2.5-coder-1.5b", "qwen2", 1536, 28, 12, 2, 8960, 151936, 32768, 1_000_000f, 1e-6f,
                    true, true, false, 0f, false, "ggml-vocab-qwen2.gguf"),
            new ModelShape("deepseek-coder-1.3b", "llama", 2048, 24, 16, 16, 5504, 32256, 16384, 100_000f, 1e-6f,
                    false, false, false, 4f, false, "ggml-vocab-deepseek-coder.gguf"),
            new ModelShape("starcoder2-3b", "starcoder2", 3072, 30, 24, 2, 12288, 49152, 16384, 999_999.44f, 1e-5f,
                    true, true, true, 0f, false, "ggml-vocab-starcoder.gguf"),
            new ModelShape("llama-3.2-1b", "llama", 2048, 16, 32, 8, 8192, 128256, 131072, 500_000f, 1e-5f,
                    true, false, false, 0f, true, "ggml-vocab-gpt-2.gguf"),
    }).collect(Collectors.toMap(ModelShape::name, s -> s, (a, b) -> a, java.util.LinkedHashMap::new));

    public int headDim() {
        return embd / heads;
    }

    public int kvDim() {
        return headsKv * headDim();
    }

    public static ModelShape byName(String name) {
        ModelShape s = KNOWN.get(name);
        if (s == null) {
            throw new IllegalArgumentException("unknown model shape '" + name + "'; known: "
                    + String.join(", ", KNOWN.keySet()));
        }
        return s;
    }
}
