package dev.flint.engine.sched;

import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.Fixtures;
import dev.flint.engine.generate.GenerationRequest;
import dev.flint.engine.generate.TokenListener;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.engine.spec.DraftModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** The draft model's side of a step, driven by hand: what it drafts, and what its cache holds afterwards. */
class ModelDrafterTest {
    static Engine engine;
    static DraftModel draft;
    static int[] prompt;
    static int[] greedy; // the model's own greedy continuation of the prompt

    @BeforeAll
    static void load() throws Exception {
        engine = Engine.load(Fixtures.model("stories260K-F32.gguf"), EngineOptions.defaults().withThreads(1)
                .withWarmup(false).withContextLength(256));
        draft = DraftModel.load(Fixtures.model("stories260K-F32.gguf"), engine, false);
        prompt = engine.tokenizer().encode("Once upon a time there was a little girl named Lily. She", true, false);
        greedy = engine.generate(engine.newSession(), GenerationRequest.of(prompt, 8, SamplerConfig.greedy()),
                TokenListener.NONE).tokens();
    }

    @AfterAll
    static void close() {
        draft.close();
        engine.close();
    }

    static ModelDrafter drafter(SchedulerOptions o) {
        return new ModelDrafter(draft, engine.pool(), engine.tokenizer().vocabulary(),
                engine.model().vocabularySize(), o);
    }

    /** A slot decoding after the prompt, with its first generated token pending. */
    static Slot decoding(int room) {
        Slot s = new Slot(0, engine.model().transformer().newCache(256), 8);
        s.job = new Scheduler.Entry(1, Job.of(prompt, 100, SamplerConfig.greedy()), null, 0);
        s.ensureTokens(prompt.length);
        System.arraycopy(prompt, 0, s.tokens, 0, prompt.length);
        s.length = prompt.length;
        s.promptPos = prompt.length;
        s.pending = greedy[0];
        s.draftRoom = room;
        return s;
    }

    @Test
    void draftsAreTheDraftModelsGreedyContinuation() {
        ModelDrafter d = drafter(new SchedulerOptions(1, 256, 1, 64).withDraftMax(4).withDraftPMin(0f));
        Slot s = decoding(4);
        assertEquals(4, d.draft(new Slot[]{s}));
        assertEquals(4, s.drafts);
        assertArrayEquals(Arrays.copyOfRange(greedy, 1, 5), Arrays.copyOf(s.draft, 4));
        // it followed the prompt, evaluated the pending token and the drafts but the last
        assertEquals(prompt.length, d.tokensComputed());
        assertEquals(prompt.length + 4, d.cachedTokens(0));
    }

    @Test
    void rejectedDraftsAreDroppedFromTheDraftCacheAfterVerification() {
        ModelDrafter d = drafter(new SchedulerOptions(1, 256, 1, 64).withDraftMax(4).withDraftPMin(0f));
        Slot s = decoding(4);
        d.draft(new Slot[]{s});
        // the target accepted the first draft and picked another token instead of the second
        s.push(s.pending);
        s.push(s.draft[0]);
        s.pending = s.draft[1] + 1;
        d.afterVerify(s);
        assertEquals(prompt.length + 2, d.cachedTokens(0));
        // the next step evaluates nothing again: the cache is in step with the slot
        long computed = d.tokensComputed();
        d.draft(new Slot[]{s});
        assertEquals(computed, d.tokensComputed());
        assertTrue(s.drafts > 0);
    }

    @Test
    void aDraftEndsAfterItsFirstTokenBelowPMin() {
        ModelDrafter d = drafter(new SchedulerOptions(1, 256, 1, 64).withDraftMax(4).withDraftPMin(1f));
        Slot s = decoding(4);
        assertEquals(1, d.draft(new Slot[]{s}));
        assertEquals(greedy[1], s.draft[0]);
    }

    @Test
    void aPromptLongerThanTheStepBudgetIsFollowedOverSeveralStepsBeforeDrafting() {
        int budget = prompt.length / 2;
        ModelDrafter d = drafter(new SchedulerOptions(1, 256, 1, budget).withDraftMax(4).withDraftPMin(0f));
        Slot s = decoding(4);
        assertEquals(0, d.draft(new Slot[]{s}));
        assertEquals(budget, d.cachedTokens(0));
        int steps = 1;
        while (d.draft(new Slot[]{s}) == 0 && steps < 10) {
            steps++;
        }
        assertEquals((prompt.length + budget - 1) / budget, steps + 1, "steps until the first draft");
        assertEquals(4, s.drafts);
    }
}
