package dev.flint.engine.sched;

import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.Fixtures;
import dev.flint.engine.generate.FinishReason;
import dev.flint.engine.generate.GenerationRequest;
import dev.flint.engine.sampling.SamplerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class SchedulerTest {
    static Engine engine;

    @BeforeAll
    static void load() throws Exception {
        engine = Engine.load(Fixtures.model("stories260K-F32.gguf"), EngineOptions.defaults().withThreads(1)
                .withWarmup(false).withContextLength(256));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static CompletableFuture<Completion> submit(Scheduler s, Job job) {
        var f = new CompletableFuture<Completion>();
        s.submit(job, new JobListener() {
            public void onDelta(int token, String text) { }
            public void onDone(Completion c) { f.complete(c); }
        });
        return f;
    }

    @Test
    void concurrentGreedyJobsMatchTheSingleSequenceGenerator() throws Exception {
        int[] a = engine.tokenizer().encode("Once upon a time", true, false);
        int[] b = engine.tokenizer().encode("The little dog", true, false);
        String expectA = engine.generate(engine.newSession(), GenerationRequest.of(a, 24, SamplerConfig.greedy()), (t, x) -> { }).text();
        String expectB = engine.generate(engine.newSession(), GenerationRequest.of(b, 24, SamplerConfig.greedy()), (t, x) -> { }).text();
        try (var s = new Scheduler(engine, new SchedulerOptions(2, 256, 8, 64))) {
            // b is submitted from a's first token (on the loop thread), so the two overlap however fast the model is
            var fb = new CompletableFuture<CompletableFuture<Completion>>();
            var fa = new CompletableFuture<Completion>();
            s.submit(Job.of(a, 24, SamplerConfig.greedy()), new JobListener() {
                public void onDelta(int token, String text) {
                    if (!fb.isDone()) {
                        fb.complete(submit(s, Job.of(b, 24, SamplerConfig.greedy())));
                    }
                }
                public void onDone(Completion c) { fa.complete(c); }
            });
            assertEquals(expectA, fa.get(30, TimeUnit.SECONDS).text());
            assertEquals(expectB, fb.get(30, TimeUnit.SECONDS).get(30, TimeUnit.SECONDS).text());
            // both decoded together: fewer forward passes than decode tokens
            assertTrue(s.steps() < s.decodeSteps() + 2, "steps " + s.steps() + " decode " + s.decodeSteps());
        }
    }

    @Test
    void speculativeDecodingGivesTheSameGreedyOutputInFewerSteps() throws Exception {
        // text that repeats itself, as code does: the n-gram drafter has something to propose
        String text = "Tom had a red ball. Tom had a red ball. Tom had a red ball. Tom had a";
        int[] a = engine.tokenizer().encode(text, true, false);
        int[] b = engine.tokenizer().encode("Once upon a time", true, false);
        String plainA;
        String plainB;
        long plainSteps;
        try (var s = new Scheduler(engine, new SchedulerOptions(2, 256, 8, 64))) {
            var fa = submit(s, Job.of(a, 40, SamplerConfig.greedy()));
            var fb = submit(s, Job.of(b, 40, SamplerConfig.greedy()));
            plainA = fa.get(30, TimeUnit.SECONDS).text();
            plainB = fb.get(30, TimeUnit.SECONDS).text();
            plainSteps = s.decodeSteps();
            assertEquals(0, s.draftedTokens());
        }
        try (var s = new Scheduler(engine, new SchedulerOptions(2, 256, 8, 64).withDraftMax(8))) {
            var fa = submit(s, Job.of(a, 40, SamplerConfig.greedy()));
            var fb = submit(s, Job.of(b, 40, SamplerConfig.greedy()));
            Completion ca = fa.get(30, TimeUnit.SECONDS);
            assertEquals(plainA, ca.text());
            assertEquals(plainB, fb.get(30, TimeUnit.SECONDS).text());
            assertEquals(40, ca.generatedTokens());
            assertTrue(s.acceptedDraftTokens() > 4, "accepted " + s.acceptedDraftTokens() + " of "
                    + s.draftedTokens());
            assertTrue(s.decodeSteps() < plainSteps, s.decodeSteps() + " steps vs " + plainSteps);
            // and the slot's cache holds exactly what was accepted: a follow-up reuses it as a prefix
            int[] follow = engine.tokenizer().encode(text + ca.text(), true, false);
            Completion next = submit(s, Job.of(follow, 1, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
            assertTrue(next.cachedTokens() >= a.length, "cached " + next.cachedTokens());
        }
    }

    @Test
    void sampledJobsGiveTheSameTokensWithNgramDraftsForTheSameSeed() throws Exception {
        // drafts are verified by sampling at every position, one draw per emitted token as without drafts
        String text = "Tom had a red ball. Tom had a red ball. Tom had a red ball. Tom had a";
        int[] a = engine.tokenizer().encode(text, true, false);
        SamplerConfig sampled = SamplerConfig.defaults().withTemperature(0.5f).withSeed(7L);
        String plain;
        try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64))) {
            plain = submit(s, Job.of(a, 40, sampled)).get(30, TimeUnit.SECONDS).text();
        }
        try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64).withDraftMax(8))) {
            assertEquals(plain, submit(s, Job.of(a, 40, sampled)).get(30, TimeUnit.SECONDS).text());
            assertTrue(s.acceptedDraftTokens() > 0, "accepted " + s.acceptedDraftTokens() + " of "
                    + s.draftedTokens());
        }
    }

    @Test
    void maxLinesEndsTheCompletionBeforeItsNthLineBreak() throws Exception {
        int[] a = engine.tokenizer().encode("Once upon a time", true, false);
        try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64))) {
            String plain = submit(s, Job.of(a, 200, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS).text();
            int first = plain.indexOf('\n', plain.length() - plain.stripLeading().length());
            assertTrue(first > 0, "the plain completion has a line break to cut at: " + plain);
            var one = submit(s, new Job(a, 200, SamplerConfig.greedy(), null, false, -1, true, 0, null, 0, 1))
                    .get(30, TimeUnit.SECONDS);
            assertEquals(plain.substring(0, first), one.text());
            assertEquals(FinishReason.LENGTH, one.finishReason());
        }
    }

    @Test
    void aPromptDisplacedFromItsSlotComesBackFromThePrefixTree() throws Exception {
        String story = "Once upon a time there was a little girl named Lily. She loved to play outside in the park"
                + " with her friends. One day she found a big red ball under a tree and ran to show her mom.";
        int[] a = engine.tokenizer().encode(story, true, false);
        int[] b = engine.tokenizer().encode("The dog ran fast. It wanted to catch the cat, but the cat climbed up"
                + " a tall tree and the dog sat down and waited for a long time until it got dark.", true, false);
        assertTrue(a.length >= 64, "long enough to keep: " + a.length);
        try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64))) {
            String first = submit(s, Job.of(a, 12, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS).text();
            submit(s, Job.of(b, 4, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS); // takes the only slot
            long computed = s.promptTokensComputed();
            Completion again = submit(s, Job.of(a, 12, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
            assertEquals(a.length - 1, again.cachedTokens());
            assertEquals(1, s.promptTokensComputed() - computed, "only the last prompt token, for its logits");
            assertTrue(s.promptTokensRestored() >= a.length - 2, "restored " + s.promptTokensRestored());
            assertEquals(first, again.text(), "restored entries are the computed ones");
            assertTrue(s.prefixCacheBytes() > 0);
        }
        try (var off = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64).withCacheRamMiB(0))) {
            submit(off, Job.of(a, 2, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
            submit(off, Job.of(b, 2, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
            assertTrue(submit(off, Job.of(a, 2, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS).cachedTokens() < 4);
            assertEquals(0, off.promptTokensRestored());
        }
    }

    /**
     * A key typed early in a fill-in-the-middle prompt: less than half is a common prefix, but the suffix only moves,
     * so the slot keeps it and the prefix tree is not written (it was, every such key). A prompt that really
     * displaces the slot's sequence still goes to the tree (the test above).
     */
    @Test
    void aKeyTypedBeforeAMovedSuffixDoesNotCopyTheSlotIntoThePrefixTree() throws Exception {
        int[] prefix = engine.tokenizer().encode("Once upon a time", true, false);
        int[] typed = engine.tokenizer().encode(" there", false, false);
        int[] suffix = engine.tokenizer().encode(" was a little girl named Lily. She loved to play outside in the park"
                + " with her friends. One day she found a big red ball under a tree and ran to show her mom.",
                false, false);
        int[] before = concat(prefix, suffix);
        int[] after = concat(concat(prefix, typed), suffix);
        assertTrue(prefix.length < before.length / 2 && before.length >= 64, "a prefix under half: " + before.length);
        try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64).withCacheReuse(8))) {
            submit(s, Job.of(before, 2, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
            long computed = s.promptTokensComputed();
            Completion c = submit(s, Job.of(after, 2, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
            assertTrue(s.promptTokensMoved() >= suffix.length - 2, "the suffix moved: " + s.promptTokensMoved());
            assertTrue(s.promptTokensComputed() - computed <= typed.length + 3,
                    "computed " + (s.promptTokensComputed() - computed));
            assertEquals(0, s.prefixCacheBytes(), "nothing stored: the slot kept its sequence");
            assertTrue(c.cachedTokens() >= after.length - typed.length - 3);
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aFollowUpPromptReusesTheSlotsCachedPrefix() throws Exception {
        int[] a = engine.tokenizer().encode("Once upon a time there was a", true, false);
        try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64))) {
            submit(s, Job.of(a, 4, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
            Completion c = submit(s, Job.of(a, 4, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
            assertEquals(a.length - 1, c.cachedTokens());
        }
    }

    @Test
    void cancellingStopsDecodingWithinOneStep() throws Exception {
        int[] a = engine.tokenizer().encode("Once upon a time", true, false);
        try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64))) {
            var got = new AtomicInteger();
            var fiveTokens = new CountDownLatch(5);
            var done = new CompletableFuture<Completion>();
            var job = new Job(a, 200, SamplerConfig.greedy(), null, true, -1, true, 0, null, 0);
            var ticket = s.submit(job, new JobListener() {
                public void onDelta(int token, String text) { got.incrementAndGet(); fiveTokens.countDown(); }
                public void onDone(Completion c) { done.complete(c); }
            });
            assertTrue(fiveTokens.await(30, TimeUnit.SECONDS));
            ticket.cancel();
            long atCancel = s.decodeSteps();
            Completion c = done.get(10, TimeUnit.SECONDS);
            assertEquals(FinishReason.CANCELLED, c.finishReason());
            assertTrue(s.decodeSteps() - atCancel <= 1, "decode steps after cancel: " + (s.decodeSteps() - atCancel));
            Thread.sleep(50);
            assertEquals(0, s.busySlots());
        }
    }

    @Test
    void aFullQueueRefusesNewJobs() {
        int[] a = engine.tokenizer().encode("Once upon a time", true, false);
        try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 1, 64))) {
            var big = new Job(a, 200, SamplerConfig.greedy(), null, true, -1, true, 0, null, 0);
            var t1 = s.submit(big, new JobListener() { public void onDelta(int t, String x) { } public void onDone(Completion c) { } });
            var t2 = s.submit(big, new JobListener() { public void onDelta(int t, String x) { } public void onDone(Completion c) { } });
            try {
                assertThrows(QueueFullException.class, () -> {
                    for (int i = 0; i < 3; i++) {
                        s.submit(big, new JobListener() { public void onDelta(int t, String x) { } public void onDone(Completion c) { } });
                    }
                });
            } finally {
                t1.cancel();
                t2.cancel();
            }
        }
    }

    @Test
    void aPromptLongerThanTheContextIsRefused() {
        try (var s = new Scheduler(engine, new SchedulerOptions(1, 16, 1, 16))) {
            assertThrows(IllegalArgumentException.class, () -> s.submit(Job.of(new int[40], 1, SamplerConfig.greedy()),
                    new JobListener() { public void onDelta(int t, String x) { } public void onDone(Completion c) { } }));
        }
    }
}
