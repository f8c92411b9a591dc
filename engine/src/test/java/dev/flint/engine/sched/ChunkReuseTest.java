package dev.flint.engine.sched;

import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.Fixtures;
import dev.flint.engine.kv.KvCache;
import dev.flint.engine.model.Batch;
import dev.flint.engine.model.Transformer;
import dev.flint.engine.sampling.SamplerConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static dev.flint.engine.sched.SchedulerTest.submit;
import static org.junit.jupiter.api.Assertions.*;

/** Moving cached runs to new positions: the plan, the key rotation, and the scheduler's use of both. */
class ChunkReuseTest {

    static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void anInsertionMovesTheSuffixRight() {
        int[] cached = concat(range(0, 50), range(100, 200), new int[]{7});
        int[] prompt = concat(range(0, 50), new int[]{900, 901, 902}, range(100, 200), new int[]{7});
        var moves = ChunkReuse.plan(cached, cached.length, prompt, 50, 32);
        assertEquals(List.of(new ChunkReuse.Move(50, 53, 100)), moves);
    }

    @Test
    void aDeletionMovesItLeftAndTheLastTokenIsAlwaysComputed() {
        int[] cached = concat(range(0, 50), new int[]{900, 901}, range(100, 200));
        int[] prompt = concat(range(0, 50), range(100, 200));
        var moves = ChunkReuse.plan(cached, cached.length, prompt, 50, 32);
        assertEquals(List.of(new ChunkReuse.Move(52, 50, 99)), moves, "the prompt's last token is not moved");
    }

    @Test
    void shortRunsAreRecomputedAndOffTurnsItOff() {
        int[] cached = concat(range(0, 10), range(100, 120), new int[]{1});
        int[] prompt = concat(range(0, 10), new int[]{5}, range(100, 120), new int[]{1});
        assertTrue(ChunkReuse.plan(cached, cached.length, prompt, 10, 32).isEmpty());
        assertEquals(1, ChunkReuse.plan(cached, cached.length, prompt, 10, 16).size());
        assertTrue(ChunkReuse.plan(cached, cached.length, prompt, 10, 0).isEmpty());
    }

    @Test
    void movesCarriedOutInExecutionOrderNeverOverwriteASourceStillToBeRead() {
        Random r = new Random(7);
        for (int trial = 0; trial < 500; trial++) {
            // a cache of distinct runs; the prompt keeps some runs, drops some, inserts new tokens between them
            List<int[]> runs = new ArrayList<>();
            int next = 1000;
            for (int i = 0; i < 2 + r.nextInt(5); i++) {
                runs.add(range(next, next + 4 + r.nextInt(20)));
                next += 100;
            }
            int[] cached = concat(runs.toArray(int[][]::new));
            List<int[]> promptParts = new ArrayList<>();
            int fresh = 1;
            for (int[] run : runs) {
                if (r.nextInt(4) > 0) {
                    promptParts.add(range(fresh, fresh + r.nextInt(12)));
                    fresh += 20;
                    promptParts.add(run);
                }
            }
            promptParts.add(new int[]{5});
            int[] prompt = concat(promptParts.toArray(int[][]::new));
            var moves = ChunkReuse.plan(cached, cached.length, prompt, 0, 3);
            int[] cells = Arrays.copyOf(cached, Math.max(cached.length, prompt.length) + 1);
            for (var m : ChunkReuse.executionOrder(moves)) {
                System.arraycopy(cells, m.from(), cells, m.to(), m.length());
            }
            for (var m : moves) {
                for (int i = 0; i < m.length(); i++) {
                    assertEquals(prompt[m.to() + i], cells[m.to() + i], "trial " + trial + " move " + m);
                }
            }
        }
    }

    @Test
    void shiftedKeysEqualKeysComputedAtTheNewPositions() throws Exception {
        // layer 0's keys and values depend only on the token and its position, so they can be compared exactly
        try (Engine engine = Engine.load(Fixtures.model("tiny-qwen2-F16.gguf"),
                EngineOptions.defaults().withThreads(1).withWarmup(false).withContextLength(128))) {
            Transformer t = engine.model().transformer();
            int[] tokens = engine.tokenizer().encode("def add(a, b):\n    return a + b\n", false, false);
            int n = tokens.length;
            for (int d : new int[]{7, -5}) {
                int base = d > 0 ? 0 : -d;
                KvCache moved = filled(engine, tokens, base);
                KvCache direct = filled(engine, tokens, base + d);
                t.shiftCache(moved, base, base + d, n);
                int kvDim = moved.kvDim();
                float[] km = moved.keys(0);
                float[] kd = direct.keys(0);
                double maxErr = 0;
                double scale = 0;
                for (int i = (base + d) * kvDim; i < (base + d + n) * kvDim; i++) {
                    maxErr = Math.max(maxErr, Math.abs(km[i] - kd[i]));
                    scale = Math.max(scale, Math.abs(kd[i]));
                }
                // half precision keeps 11 bits: stored, rotated and stored again, a key is off by a few of its ulps
                assertTrue(maxErr <= 2e-3 * scale, "keys moved by " + d + " differ by " + maxErr + " of " + scale);
                for (int i = 0; i < kvDim; i++) {
                    for (int p = base + d; p < base + d + n; p++) {
                        assertEquals(direct.values(0)[i * direct.cells() + p], moved.values(0)[i * moved.cells() + p],
                                "values are copied as they are");
                    }
                }
            }
        }
    }

    private static KvCache filled(Engine engine, int[] tokens, int at) {
        Transformer t = engine.model().transformer();
        KvCache cache = t.newCache(128);
        Batch b = new Batch();
        for (int i = 0; i < tokens.length; i++) {
            b.add(tokens[i], at + i, cache, i == tokens.length - 1);
        }
        t.forward(b, new float[t.vocabularySize()], engine.pool());
        return cache;
    }

    @Test
    void aPromptCancelledMidwayKeepsItsMovedSuffixForTheNextKeystroke() throws Exception {
        try (Engine engine = Engine.load(Fixtures.model("stories260K-F32.gguf"), EngineOptions.defaults()
                .withThreads(1).withWarmup(false).withContextLength(512))) {
            var tok = engine.tokenizer();
            int[] prefix = tok.encode("Once upon a time there was a little girl named Lily.", true, false);
            int[] suffix = tok.encode("\nShe liked to play in the park with her friends. Every day she went to the"
                    + " park and played on the swings and the slide with her dog, who was big and brown.", false, false);
            int[] typed = tok.encode(("One day it rained and she stayed at home with her mom and they baked a cake"
                    + " together. ").repeat(3), false, false);
            int[] before = concat(prefix, suffix);
            int[] after = concat(prefix, typed, suffix);
            // slot 0 decodes a long job whose deltas (on the loop thread) cancel the keystroke's job once armed
            var armed = new java.util.concurrent.atomic.AtomicBoolean();
            var keystroke = new dev.flint.engine.generate.Cancellation();
            try (var s = new Scheduler(engine, new SchedulerOptions(2, 512, 8, 4))) {
                submit(s, new Job(before, 0, SamplerConfig.greedy(), null, false, 1, true, 0, null, 0))
                        .get(30, TimeUnit.SECONDS);
                var background = new CompletableFuture<Completion>();
                s.submit(new Job(prefix, 400, SamplerConfig.greedy(), null, true, 0, false, 0, null, 0),
                        new JobListener() {
                            public void onDelta(int token, String text) {
                                if (armed.get()) {
                                    keystroke.cancel();
                                }
                            }
                            public void onDone(Completion c) { background.complete(c); }
                        });
                var cancelled = submit(s, new Job(after, 8, SamplerConfig.greedy(), null, false, 1, true, 0,
                        keystroke, 0));
                while (!s.slotStates()[1].processing() && !cancelled.isDone()) {
                    Thread.onSpinWait();
                }
                armed.set(true); // a step budget of 4 tokens: the typed text takes many steps, it ends midway
                assertEquals(dev.flint.engine.generate.FinishReason.CANCELLED,
                        cancelled.get(30, TimeUnit.SECONDS).finishReason());
                long computed = s.promptTokensComputed();
                Completion next = submit(s, new Job(after, 1, SamplerConfig.greedy(), null, false, 1, true, 0, null,
                        0)).get(30, TimeUnit.SECONDS);
                long now = s.promptTokensComputed() - computed;
                assertTrue(now <= typed.length + 1, "the suffix moved by the cancelled job is reused: computed " + now
                        + " for " + typed.length + " typed and " + suffix.length + " suffix tokens");
                assertEquals(after.length - now, next.cachedTokens());
                background.get(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void reusingTheCommonPrefixLeavesGreedyOutputUnchanged() throws Exception {
        try (Engine engine = Engine.load(Fixtures.model("stories260K-F32.gguf"), EngineOptions.defaults()
                .withThreads(1).withWarmup(false).withContextLength(256))) {
            int[] a = engine.tokenizer().encode("Once upon a time there was a little girl named Lily. She", true,
                    false);
            try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64))) {
                Completion fresh = submit(s, new Job(a, 24, SamplerConfig.greedy(), null, false, -1, false, 0,
                        null, 0)).get(30, TimeUnit.SECONDS);
                submit(s, Job.of(Arrays.copyOf(a, a.length - 4), 0, SamplerConfig.greedy())).get(30,
                        TimeUnit.SECONDS);
                Completion reused = submit(s, Job.of(a, 24, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
                assertEquals(a.length - 4, reused.cachedTokens());
                assertEquals(fresh.text(), reused.text());
            }
        }
    }

    @Test
    void aKeystrokeBeforeAnUnchangedSuffixComputesOnlyTheNewTokens() throws Exception {
        try (Engine engine = Engine.load(Fixtures.model("stories260K-F32.gguf"), EngineOptions.defaults()
                .withThreads(1).withWarmup(false).withContextLength(256))) {
            var tok = engine.tokenizer();
            int[] prefix = tok.encode("Once upon a time there was a little girl named Lily.", true, false);
            int[] suffix = tok.encode("\nShe liked to play in the park with her friends. Every day she went to the"
                    + " park and played on the swings and the slide with her dog, who was big and brown.", false, false);
            int[] typed = tok.encode("One day it rained.", false, false);
            assertNotEquals(typed[0], suffix[0], "the typed text must differ from the suffix at once");
            int[] before = concat(prefix, suffix);
            int[] after = concat(prefix, typed, suffix);
            try (var s = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64))) {
                submit(s, Job.of(before, 0, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
                long computed = s.promptTokensComputed();
                Completion c = submit(s, Job.of(after, 8, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
                assertEquals(typed.length + 1, s.promptTokensComputed() - computed,
                        "the typed tokens and the last one (its logits) are computed, the moved suffix is not");
                assertEquals(after.length - typed.length - 1, c.cachedTokens());
                assertEquals(suffix.length - 1, s.promptTokensMoved());
                // the moved suffix was computed after the old text, so greedy output may differ from a fresh
                // evaluation (it does here, on a 260K-parameter model): the approximation llama.cpp's --cache-reuse
                // makes, documented in docs/design.md. What the fresh run shows is that nothing is cached then.
                Completion fresh = submit(s, new Job(after, 8, SamplerConfig.greedy(), null, false, -1, false, 0,
                        null, 0)).get(30, TimeUnit.SECONDS);
                assertEquals(0, fresh.cachedTokens());
                assertEquals(8, c.generatedTokens());
            }
            try (var off = new Scheduler(engine, new SchedulerOptions(1, 256, 8, 64).withCacheReuse(0))) {
                submit(off, Job.of(before, 0, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
                long computed = off.promptTokensComputed();
                submit(off, Job.of(after, 8, SamplerConfig.greedy())).get(30, TimeUnit.SECONDS);
                assertEquals(typed.length + suffix.length, off.promptTokensComputed() - computed,
                        "without reuse the suffix is recomputed");
                assertEquals(0, off.promptTokensMoved());
            }
        }
    }
}
