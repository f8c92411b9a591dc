package dev.flint.engine.sched;

import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.Fixtures;
import dev.flint.engine.ModelLoadException;
import dev.flint.engine.generate.Cancellation;
import dev.flint.engine.generate.FinishReason;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.engine.spec.DraftModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Speculation with a draft model ({@code --draft}): it changes how many forward passes the target runs, never what it writes. */
class DraftModelSpeculationTest {
    static Engine stories;
    static DraftModel storiesDraft;

    @BeforeAll
    static void load() throws Exception {
        stories = Engine.load(Fixtures.model("stories260K-F32.gguf"), options());
        storiesDraft = DraftModel.load(Fixtures.model("stories260K-F32.gguf"), stories, false);
    }

    @AfterAll
    static void close() {
        storiesDraft.close();
        stories.close();
    }

    static EngineOptions options() {
        return EngineOptions.defaults().withThreads(1).withWarmup(false).withContextLength(256);
    }

    /** What a job produced: its token ids in order and its completion. */
    record Run(List<Integer> tokens, Completion completion) {
    }

    static Run run(Scheduler s, Job job) throws Exception {
        var tokens = new ArrayList<Integer>();
        var done = new CompletableFuture<Completion>();
        s.submit(job, new JobListener() {
            public void onDelta(int token, String text) {
                if (token >= 0) {
                    tokens.add(token);
                }
            }

            public void onDone(Completion c) {
                done.complete(c);
            }
        });
        return new Run(tokens, done.get(60, TimeUnit.SECONDS));
    }

    static SchedulerOptions one() {
        return new SchedulerOptions(1, 256, 4, 64);
    }

    @Test
    void aModelDraftingForItselfIsAlmostAlwaysAcceptedAndChangesNothing() throws Exception {
        int[] prompt = stories.tokenizer().encode("Once upon a time", true, false);
        Run plain;
        long plainSteps;
        try (var s = new Scheduler(stories, one())) {
            plain = run(s, Job.of(prompt, 64, SamplerConfig.greedy()));
            plainSteps = s.decodeSteps();
        }
        try (var s = new Scheduler(stories, one().withDraftMax(6).withDraftPMin(0f), storiesDraft)) {
            assertTrue(s.hasDraftModel());
            Run spec = run(s, Job.of(prompt, 64, SamplerConfig.greedy()));
            assertEquals(plain.tokens(), spec.tokens());
            assertEquals(plain.completion().text(), spec.completion().text());
            assertEquals(64, spec.completion().generatedTokens());
            assertTrue(s.draftedTokens() > 40, "drafted " + s.draftedTokens());
            assertTrue(s.acceptedDraftTokens() >= 0.9 * s.draftedTokens(),
                    "accepted " + s.acceptedDraftTokens() + " of " + s.draftedTokens());
            assertTrue(s.decodeSteps() * 3 < plainSteps, s.decodeSteps() + " target steps vs " + plainSteps);
        }
    }

    @Test
    void aShortDraftContextDraftsFromTheLastTokensAndKeepsTheOutput() throws Exception {
        int[] prompt = stories.tokenizer().encode("Once upon a time", true, false);
        Run plain;
        try (var s = new Scheduler(stories, one())) {
            plain = run(s, Job.of(prompt, 96, SamplerConfig.greedy()));
        }
        long fullBytes;
        try (var s = new Scheduler(stories, one().withDraftMax(4).withDraftPMin(0f), storiesDraft)) {
            fullBytes = s.draftCacheBytes();
        }
        // 24 cells for 100 tokens: the window moves forward several times during the job
        try (var s = new Scheduler(stories, one().withDraftMax(4).withDraftPMin(0f).withDraftContextLength(24),
                storiesDraft)) {
            // (caches round their cells up to a whole block of 32)
            assertEquals(fullBytes * 32 / 256, s.draftCacheBytes());
            Run spec = run(s, Job.of(prompt, 96, SamplerConfig.greedy()));
            assertEquals(plain.tokens(), spec.tokens());
            assertTrue(s.draftedTokens() > 40, "drafted " + s.draftedTokens());
            // the window keeps the recent text, which this model continues from: most drafts still hold
            assertTrue(s.acceptedDraftTokens() >= 0.5 * s.draftedTokens(),
                    "accepted " + s.acceptedDraftTokens() + " of " + s.draftedTokens());
            // a second job with a prompt longer than the window starts from the window's end of it
            int[] longer = new int[prompt.length + 60];
            System.arraycopy(prompt, 0, longer, 0, prompt.length);
            for (int i = 0; i < 60; i++) {
                longer[prompt.length + i] = plain.tokens().get(i);
            }
            Run again;
            try (var p = new Scheduler(stories, one())) {
                again = run(p, Job.of(longer, 24, SamplerConfig.greedy()));
            }
            long drafted = s.draftedTokens();
            assertEquals(again.tokens(), run(s, Job.of(longer, 24, SamplerConfig.greedy())).tokens());
            assertTrue(s.draftedTokens() > drafted);
        }
        assertThrows(IllegalArgumentException.class, () -> one().withDraftMax(8).withDraftContextLength(9));
    }

    @Test
    void aQuantizedDraftOfTheSameVocabularyLeavesGreedyOutputUnchanged() throws Exception {
        try (Engine target = Engine.load(Fixtures.model("tiny-qwen2-F16.gguf"), options());
             DraftModel draft = DraftModel.load(Fixtures.model("tiny-qwen2-Q4_K_M.gguf"), target, false)) {
            String code = Files.readString(Fixtures.dir().resolve("prompts/code-python.txt"));
            int[] prompt = target.tokenizer().encode(code, true, true);
            Job job = new Job(prompt, 48, SamplerConfig.greedy(), null, true, -1, true, 0, null, 0);
            Run plain;
            try (var s = new Scheduler(target, one())) {
                plain = run(s, job);
            }
            try (var s = new Scheduler(target, one().withDraftMax(4).withDraftPMin(0f), draft)) {
                Run spec = run(s, job);
                assertEquals(plain.tokens(), spec.tokens());
                assertEquals(48, spec.tokens().size());
                assertTrue(s.draftedTokens() > 0);
                assertTrue(s.acceptedDraftTokens() <= s.draftedTokens());
            }
        }
    }

    @Test
    void aDraftModelWithAnotherVocabularyIsRefusedAtLoad() throws Exception {
        try (Engine target = Engine.load(Fixtures.model("tiny-llama-spm-Q8_0.gguf"), options())) {
            var e = assertThrows(ModelLoadException.class,
                    () -> DraftModel.load(Fixtures.model("tiny-qwen2-Q4_K_M.gguf"), target, false));
            assertTrue(e.getMessage().contains("tiny-qwen2-Q4_K_M.gguf"), e.getMessage());
            assertTrue(e.getMessage().contains("tiny-llama-spm-Q8_0.gguf"), e.getMessage());
            assertTrue(e.getMessage().contains("must share the target's vocabulary"), e.getMessage());
            assertTrue(e.getMessage().contains("SentencePiece"), e.getMessage());
        }
    }

    @Test
    void sampledJobsWithASeedGiveTheSameTokensWithAndWithoutDrafts() throws Exception {
        int[] prompt = stories.tokenizer().encode("Once upon a time", true, false);
        SamplerConfig sampled = SamplerConfig.defaults().withRepeatPenalty(1.1f).withSeed(42L);
        Run plain;
        try (var s = new Scheduler(stories, one())) {
            plain = run(s, Job.of(prompt, 64, sampled));
        }
        try (var s = new Scheduler(stories, one().withDraftMax(4).withDraftPMin(0f), storiesDraft)) {
            Run spec = run(s, Job.of(prompt, 64, sampled));
            assertEquals(plain.tokens(), spec.tokens());
            assertTrue(s.acceptedDraftTokens() > 0, "accepted " + s.acceptedDraftTokens() + " of "
                    + s.draftedTokens());
        }
    }

    @Test
    void draftPMinEndsADraftAtTheFirstUnsureTokenAndDraftMinDropsShortDrafts() throws Exception {
        int[] prompt = stories.tokenizer().encode("Once upon a time", true, false);
        Run plain;
        try (var s = new Scheduler(stories, one())) {
            plain = run(s, Job.of(prompt, 32, SamplerConfig.greedy()));
        }
        // p-min 1: no token is sure enough to draft past, so every draft is the one token drafted before the check
        try (var s = new Scheduler(stories, one().withDraftMax(4).withDraftPMin(1f), storiesDraft)) {
            assertEquals(plain.tokens(), run(s, Job.of(prompt, 32, SamplerConfig.greedy())).tokens());
            assertTrue(s.draftedTokens() > 0);
            assertTrue(s.draftedTokens() <= s.decodeSteps(), s.draftedTokens() + " drafted in "
                    + s.decodeSteps() + " steps");
        }
        // and drafts of one token are below draft-min 2: nothing is verified
        try (var s = new Scheduler(stories, one().withDraftMax(4).withDraftMin(2).withDraftPMin(1f), storiesDraft)) {
            assertEquals(plain.tokens(), run(s, Job.of(prompt, 32, SamplerConfig.greedy())).tokens());
            assertEquals(0, s.draftedTokens());
        }
    }

    /** A job with its own speculation limits (and the plain job's other settings). */
    static Job withSpeculation(int[] prompt, int maxTokens, Speculation spec) {
        return new Job(prompt, maxTokens, SamplerConfig.greedy(), null, false, -1, false, 0, null, 0, 0, spec);
    }

    @Test
    void aRequestCanDraftLessThanTheServerAllowsAndKeepsItsOutput() throws Exception {
        int[] prompt = stories.tokenizer().encode("Once upon a time", true, false);
        Run plain;
        try (var s = new Scheduler(stories, one())) {
            plain = run(s, Job.of(prompt, 32, SamplerConfig.greedy()));
        }
        try (var s = new Scheduler(stories, one().withDraftMax(6).withDraftPMin(0f), storiesDraft)) {
            // n_max 0: this request does not speculate at all
            assertEquals(plain.tokens(), run(s, withSpeculation(prompt, 32, new Speculation(0, -1, -1f))).tokens());
            assertEquals(0, s.draftedTokens());
            // n_max 2: at most two drafts per step, where the server would draft six
            long steps = s.decodeSteps();
            assertEquals(plain.tokens(), run(s, withSpeculation(prompt, 32, new Speculation(2, -1, -1f))).tokens());
            long drafted = s.draftedTokens();
            assertTrue(drafted > 0);
            assertTrue(drafted <= 2 * (s.decodeSteps() - steps), drafted + " drafted in "
                    + (s.decodeSteps() - steps) + " steps");
            // p_min 1 ends every draft after its first token; with n_min 2 as well, nothing is verified
            steps = s.decodeSteps();
            assertEquals(plain.tokens(), run(s, withSpeculation(prompt, 32, new Speculation(-1, -1, 1f))).tokens());
            assertTrue(s.draftedTokens() - drafted <= s.decodeSteps() - steps);
            drafted = s.draftedTokens();
            assertEquals(plain.tokens(), run(s, withSpeculation(prompt, 32, new Speculation(-1, 2, 1f))).tokens());
            assertEquals(drafted, s.draftedTokens());
            // without limits of its own, the server's six apply again
            steps = s.decodeSteps();
            assertEquals(plain.tokens(), run(s, withSpeculation(prompt, 32, Speculation.SERVER)).tokens());
            assertTrue(s.draftedTokens() - drafted > 2 * (s.decodeSteps() - steps),
                    (s.draftedTokens() - drafted) + " drafted in " + (s.decodeSteps() - steps) + " steps");
        }
    }

    @Test
    void aCancelledJobLeavesBothCachesHoldingOnlyWhatWasAccepted() throws Exception {
        // a draft with other weights, so that drafts are rejected too
        try (Engine target = Engine.load(Fixtures.model("tiny-qwen2-F16.gguf"), options());
             DraftModel draft = DraftModel.load(Fixtures.model("tiny-qwen2-Q4_K_M.gguf"), target, false)) {
            String code = Files.readString(Fixtures.dir().resolve("prompts/code-python.txt"));
            int[] prompt = target.tokenizer().encode(code, true, true);
            var s = new Scheduler(target, one().withDraftMax(4).withDraftPMin(0f), draft);
            try (s) {
                var done = new CompletableFuture<Completion>();
                var cancel = new Cancellation();
                var job = new Job(prompt, 200, SamplerConfig.greedy(), null, true, -1, true, 0, cancel, 0);
                var seen = new int[1];
                s.submit(job, new JobListener() {
                    public void onDelta(int token, String text) {
                        if (++seen[0] == 20) {
                            cancel.cancel(); // on the loop thread: takes effect before the next step
                        }
                    }

                    public void onDone(Completion c) {
                        done.complete(c);
                    }
                });
                Completion c = done.get(60, TimeUnit.SECONDS);
                assertEquals(FinishReason.CANCELLED, c.finishReason());
                assertTrue(c.generatedTokens() < 30, "generated " + c.generatedTokens());
                assertTrue(s.draftedTokens() > s.acceptedDraftTokens(), "some drafts were rejected");
                Scheduler.SlotState state = s.slotStates()[0];
                assertFalse(state.processing());
                assertEquals(0, s.busySlots());
                // neither cache keeps rejected or unverified drafts: the draft cache holds at most what the target
                // accepted (its last accepted token may still be to evaluate), and both keep the prompt
                assertTrue(state.cachedTokens() >= prompt.length + 18, "target cache " + state.cachedTokens());
                assertTrue(state.draftCachedTokens() >= prompt.length, "draft cache " + state.draftCachedTokens());
                assertTrue(state.draftCachedTokens() <= state.cachedTokens(),
                        state.draftCachedTokens() + " draft cells vs " + state.cachedTokens());
                // the same prompt again: both caches reuse it, the draft model evaluates nothing for it
                long computed = s.draftTokensComputed();
                Completion again = run(s, Job.of(prompt, 1, SamplerConfig.greedy())).completion();
                assertEquals(prompt.length - 1, again.cachedTokens());
                assertEquals(computed, s.draftTokensComputed());
                assertTrue(s.draftCacheBytes() > 0);
            }
            assertEquals(0, s.draftCacheBytes(), "closing the scheduler drops the draft caches");
        }
    }

    @Test
    void theDraftCacheMovesRunsWithTheTargetsInsteadOfRecomputingThem() throws Exception {
        String story = "Once upon a time there was a little girl named Lily. She loved to play outside in the park"
                + " with her friends. One day she found a big red ball under a tree and ran to show her mom.";
        int[] a = stories.tokenizer().encode(story, true, false);
        int[] b = stories.tokenizer().encode(story.replace("little girl", "very happy little girl"), true, false);
        int common = 0;
        while (a[common] == b[common]) {
            common++;
        }
        assertTrue(b.length - common > 40, "enough after the edit to move: " + (b.length - common));
        long withMoves = draftComputedForEdit(a, b, SchedulerOptions.DEFAULT_CACHE_REUSE / 4);
        long without = draftComputedForEdit(a, b, 0);
        assertEquals(b.length - common, without, "without moves the draft recomputes everything after the edit");
        assertTrue(withMoves < without / 2, "with moves the draft computed " + withMoves + " of " + without);
    }

    /** Draft tokens evaluated for prompt b after prompt a ran in the same slot. */
    private static long draftComputedForEdit(int[] a, int[] b, int cacheReuse) throws Exception {
        // a step budget that takes the whole prompt at once, so the draft model follows it in one step
        SchedulerOptions o = new SchedulerOptions(1, 256, 4, 256).withDraftMax(4).withCacheReuse(cacheReuse)
                .withCacheRamMiB(0);
        try (var s = new Scheduler(stories, o, storiesDraft)) {
            run(s, Job.of(a, 4, SamplerConfig.greedy()));
            long before = s.draftTokensComputed();
            long moved = s.promptTokensMoved();
            // two tokens: one decode step, in which the draft model follows the prompt; no room left for drafts
            run(s, Job.of(b, 2, SamplerConfig.greedy()));
            assertEquals(cacheReuse > 0, s.promptTokensMoved() > moved, "the target moved runs iff reuse is on");
            return s.draftTokensComputed() - before;
        }
    }
}
