package dev.flint.cli.synth;

import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.Fixtures;
import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.generate.GenerationRequest;
import dev.flint.engine.generate.GenerationResult;
import dev.flint.engine.generate.TokenListener;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.engine.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticModelTest {
    /** A small shape with Qwen2's layout (QKV bias, tied output, GQA) and a row length that K-quants cannot take. */
    private static final ModelShape SMALL_QWEN = new ModelShape("small-qwen", "qwen2", 384, 4, 6, 2, 1024, 32256,
            4096, 1_000_000f, 1e-6f, true, true, false, 0f, false, "ggml-vocab-deepseek-coder.gguf");

    @Test
    void q4KmPlanFollowsLlamaCppForQwenHalfBillion() {
        ModelShape s = ModelShape.byName("qwen2.5-coder-0.5b");
        QuantPlan p = new QuantPlan("Q4_K_M");
        // 896 columns are not a multiple of 256: K-quants fall back as llama.cpp's quantizer does
        assertEquals(GgmlType.Q5_0, p.typeFor("attn_q", 5, s.layers(), s.embd(), false));
        assertEquals(GgmlType.Q8_0, p.typeFor("attn_v", 0, s.layers(), s.embd(), false));
        assertEquals(GgmlType.Q5_0, p.typeFor("attn_v", 4, s.layers(), s.embd(), false));
        assertEquals(GgmlType.Q6_K, p.typeFor("ffn_down", 0, s.layers(), s.ff(), false));
        assertEquals(GgmlType.Q4_K, p.typeFor("ffn_down", 4, s.layers(), s.ff(), false));
        assertEquals(GgmlType.Q8_0, p.typeFor("token_embd", 0, s.layers(), s.embd(), true));
    }

    @Test
    void pureTypesKeepEveryMatrixInOneType() {
        QuantPlan p = new QuantPlan("Q8_0");
        assertEquals(GgmlType.Q8_0, p.typeFor("ffn_down", 3, 24, 4864, false));
        assertEquals(GgmlType.Q8_0, p.typeFor("token_embd", 0, 24, 896, true));
        assertEquals(GgmlType.Q6_K, new QuantPlan("Q4_0").typeFor("output", 0, 24, 2048, true));
    }

    @Test
    void writtenFileLoadsAndGenerates(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("small.gguf");
        SyntheticModel.write(SMALL_QWEN, new QuantPlan("Q4_K_M"), Fixtures.vocab("ggml-vocab-deepseek-coder.gguf"),
                file, 5);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals("qwen2", f.getString("general.architecture", null));
            assertEquals(32256, f.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(GgmlType.Q5_0, f.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.1.ffn_down.weight").type());
            assertEquals(GgmlType.Q6_K, f.tensor("blk.3.ffn_down.weight").type()); // last eighth gets more bits
            assertNull(f.tensor("output.weight"));
        }
        try (Engine e = Engine.load(file, EngineOptions.defaults().withThreads(2).withWarmup(false))) {
            int[] prompt = e.tokenizer().encode("def f(x):", true, true);
            GenerationResult r = e.generate(e.newSession(),
                    new GenerationRequest(prompt, 5, SamplerConfig.greedy(), null, true, null), TokenListener.NONE);
            assertEquals(5, r.tokens().length);
        }
    }

    @Test
    void unknownShapeListsTheKnownOnes() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ModelShape.byName("gpt-9"));
        assertTrue(e.getMessage().contains("qwen2.5-coder-0.5b"), e.getMessage());
    }
}
