package dev.flint.engine.generate;

import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.Fixtures;
import dev.flint.engine.sampling.SamplerConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Speculation changes how fast tokens come, never which tokens come (greedy). */
class SpeculativeDecodingTest {
    @ParameterizedTest
    @ValueSource(strings = {"Once upon a time", "Lily and Ben. Lily and Ben. Lily and Ben went to the park. Lily and"})
    void greedyOutputIsIdenticalWithAndWithoutSpeculation(String text) throws Exception {
        EngineOptions base = EngineOptions.defaults().withThreads(2).withWarmup(false);
        try (Engine plain = Engine.load(Fixtures.model("stories260K-F32.gguf"), base);
             Engine spec = Engine.load(Fixtures.model("stories260K-F32.gguf"), base.withMaxDraft(6))) {
            int[] prompt = plain.tokenizer().encode(text, true, true);
            GenerationRequest req = GenerationRequest.of(prompt, 120, SamplerConfig.greedy());
            GenerationResult a = plain.generate(plain.newSession(), req, TokenListener.NONE);
            StringBuilder streamed = new StringBuilder();
            GenerationResult b = spec.generate(spec.newSession(), req, (t, s) -> streamed.append(s));
            assertArrayEquals(a.tokens(), b.tokens());
            assertEquals(a.text(), b.text());
            assertEquals(b.text(), streamed.toString());
            assertTrue(b.draftedTokens() > 0, "the repetitive story should trigger drafts");
            assertTrue(b.acceptedTokens() <= b.draftedTokens());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 33})
    void speculationHonoursTokenLimitsAndStopStrings(int maxTokens) throws Exception {
        EngineOptions base = EngineOptions.defaults().withThreads(2).withWarmup(false);
        try (Engine plain = Engine.load(Fixtures.model("stories260K-F32.gguf"), base);
             Engine spec = Engine.load(Fixtures.model("stories260K-F32.gguf"), base.withMaxDraft(8))) {
            int[] prompt = plain.tokenizer().encode("Once upon a time", true, true);
            GenerationRequest req = new GenerationRequest(prompt, maxTokens, SamplerConfig.greedy(),
                    List.of("park"), false, null);
            GenerationResult a = plain.generate(plain.newSession(), req, TokenListener.NONE);
            GenerationResult b = spec.generate(spec.newSession(), req, TokenListener.NONE);
            assertArrayEquals(a.tokens(), b.tokens());
            assertEquals(a.finishReason(), b.finishReason());
            assertEquals(a.text(), b.text());
        }
    }
}
