package dev.flint.engine.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.Fixtures;
import dev.flint.engine.sampling.SamplerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one trained model available offline writes exactly llama.cpp's greedy story. */
class StoryGenerationTest {
    private static Engine engine;
    private static int[] referenceGreedy;

    @BeforeAll
    static void load() throws IOException {
        engine = Engine.load(Fixtures.model("stories260K-F32.gguf"), EngineOptions.defaults().withThreads(2));
        JsonNode ref = new ObjectMapper().readTree(Fixtures.reference("stories260K-F32.story.json").toFile());
        referenceGreedy = StreamSupport.stream(ref.get("greedy").spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void greedyStoryMatchesLlamaCppTokenForToken() {
        int[] prompt = engine.tokenizer().encode("Once upon a time", true, true);
        GenerationResult r = engine.generate(engine.newSession(),
                GenerationRequest.of(prompt, referenceGreedy.length, SamplerConfig.greedy()), TokenListener.NONE);
        assertArrayEquals(referenceGreedy, r.tokens());
        assertTrue(r.text().startsWith(", there was a little girl named Lily. She loved to play outside in the park."),
                r.text());
        assertEquals(FinishReason.LENGTH, r.finishReason());
    }

    @Test
    void streamedPiecesConcatenateToTheFinalText() {
        int[] prompt = engine.tokenizer().encode("Once upon a time", true, true);
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = engine.generate(engine.newSession(),
                GenerationRequest.of(prompt, 40, SamplerConfig.greedy()), (t, text) -> streamed.append(text));
        assertEquals(r.text(), streamed.toString());
    }

    @Test
    void stopStringEndsGenerationAndIsNotIncluded() {
        int[] prompt = engine.tokenizer().encode("Once upon a time", true, true);
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = engine.generate(engine.newSession(), new GenerationRequest(prompt, 64,
                SamplerConfig.greedy(), List.of("Lily"), false, null), (t, text) -> streamed.append(text));
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(", there was a little girl named ", r.text());
        assertEquals(r.text(), streamed.toString());
    }

    @Test
    void secondRequestReusesTheCachedPrefixAndGivesTheSameTokens() {
        Session s = engine.newSession();
        int[] p1 = engine.tokenizer().encode("Once upon a time, there was a little girl", true, true);
        GenerationResult first = engine.generate(s, GenerationRequest.of(p1, 8, SamplerConfig.greedy()), TokenListener.NONE);
        assertEquals(0, first.cachedTokens());
        int[] p2 = engine.tokenizer().encode("Once upon a time, there was a little dog", true, true);
        GenerationResult second = engine.generate(s, GenerationRequest.of(p2, 8, SamplerConfig.greedy()), TokenListener.NONE);
        int common = 0;
        while (p1[common] == p2[common]) {
            common++;
        }
        assertEquals(common, second.cachedTokens());
        GenerationResult fresh = engine.generate(engine.newSession(), GenerationRequest.of(p2, 8, SamplerConfig.greedy()),
                TokenListener.NONE);
        assertArrayEquals(fresh.tokens(), second.tokens());
    }

    @Test
    void cancellationStopsBeforeTheNextDecodeStep() {
        int[] prompt = engine.tokenizer().encode("Once upon a time", true, true);
        Cancellation c = new Cancellation();
        List<Integer> seen = new ArrayList<>();
        GenerationResult r = engine.generate(engine.newSession(), new GenerationRequest(prompt, 64,
                SamplerConfig.greedy(), List.of(), false, c), (t, text) -> {
                    seen.add(t);
                    if (seen.size() == 5) {
                        c.cancel();
                    }
                });
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals(5, r.tokens().length);
    }

    @Test
    void promptLongerThanTheContextIsRejected() {
        Session s = engine.newSession(8);
        int[] prompt = engine.tokenizer().encode("Once upon a time there was a very long prompt indeed", true, true);
        try {
            engine.generate(s, GenerationRequest.of(prompt, 4, SamplerConfig.greedy()), TokenListener.NONE);
            throw new AssertionError("expected ContextOverflowException");
        } catch (ContextOverflowException e) {
            assertTrue(e.getMessage().contains("context"), e.getMessage());
        }
    }
}
