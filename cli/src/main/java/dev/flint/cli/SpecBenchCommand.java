package dev.flint.cli;

import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.engine.sched.Completion;
import dev.flint.engine.sched.Job;
import dev.flint.engine.sched.JobListener;
import dev.flint.engine.sched.Scheduler;
import dev.flint.engine.sched.SchedulerOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code flint bench spec}: greedy generation through the server's scheduler with and without n-gram
 * self-speculation, on a prompt of the user's choice (an edit-like prompt is what speculation is for: code that is
 * being rewritten repeats the code above it). Reports tokens/s of both, the speed-up, drafted and accepted tokens, and
 * checks that both produced the same text.
 */
@Command(name = "spec", mixinStandardHelpOptions = true,
        description = "Measure speculative decoding (n-gram drafts) against plain greedy decoding.")
final class SpecBenchCommand extends CliCommand {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Mixin
    PromptInput prompt;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", description = "tokens to generate (default 128)")
    int gen;

    @Option(names = "--draft-max", defaultValue = "8", description = "drafted tokens per step (default 8)")
    int draftMax;

    @Option(names = {"-t", "--threads"}, description = "threads (default: the CPUs this process may use)")
    int threads;

    @Option(names = {"-r", "--reps"}, defaultValue = "3", description = "repetitions after a warm-up (default 3)")
    int reps;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        String text = prompt.read();
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("give a prompt with -f FILE or -p TEXT");
        }
        try (Engine engine = Engine.load(model, new EngineOptions(threads, 4096, 0, true, 0))) {
            int[] tokens = engine.tokenizer().encode(text, true, true);
            int ctx = tokens.length + gen + draftMax + 8;
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", model.getFileName().toString());
            out.put("threads", engine.pool().threads());
            out.put("prompt_tokens", tokens.length);
            out.put("n_gen", gen);
            out.put("draft_max", draftMax);
            Run plain = run(engine, tokens, new SchedulerOptions(1, ctx, 1, 512));
            Run spec = run(engine, tokens, new SchedulerOptions(1, ctx, 1, 512).withDraftMax(draftMax));
            out.put("plain_tok_s", plain.rate);
            out.put("spec_tok_s", spec.rate);
            out.put("speedup", spec.rate / plain.rate);
            out.put("drafted", spec.drafted);
            out.put("accepted", spec.accepted);
            out.put("acceptance", spec.drafted == 0 ? 0 : (double) spec.accepted / spec.drafted);
            out.put("same_output", plain.text.equals(spec.text));
            // what a step costs: one token, and one token with draft_max drafts (all verified in one pass); the
            // speed-up at acceptance a is about (1 + accepted per step) / (cost ratio), whatever the model writes
            double one = forwardMs(engine, 1);
            double full = forwardMs(engine, draftMax + 1);
            out.put("step_ms_1_token", one);
            out.put("step_ms_" + (draftMax + 1) + "_tokens", full);
            out.put("speedup_if_all_accepted", (draftMax + 1) / (full / one));
            out.put("generated_tokens", spec.generated);
            if (json) {
                out().println(Json.write(out));
            } else {
                out.forEach((k, v) -> out().println(k + ": " + (v instanceof Double d ? String.format("%.3f", d) : v)));
            }
            return plain.text.equals(spec.text) ? 0 : 2;
        }
    }

    /** Median milliseconds of a forward pass over n tokens at positions 64.. of a fresh cache. */
    private double forwardMs(Engine engine, int n) {
        var tf = engine.model().transformer();
        var cache = tf.newCache(64 + n + 1);
        float[] logits = new float[n * tf.vocabularySize()];
        var b = new dev.flint.engine.model.Batch();
        List<Double> ms = new ArrayList<>();
        for (int r = 0; r < 7; r++) {
            b.clear();
            for (int i = 0; i < n; i++) {
                b.add((i * 7919 + r) % tf.vocabularySize(), 64 + i, cache, true);
            }
            long t0 = System.nanoTime();
            tf.forward(b, logits, engine.pool());
            if (r > 1) {
                ms.add((System.nanoTime() - t0) / 1e6);
            }
        }
        return BenchCommand.median(ms);
    }

    private record Run(double rate, long drafted, long accepted, String text, int generated) {
    }

    /** Median generation rate over the repetitions (the prompt is evaluated first, outside the timing). */
    private Run run(Engine engine, int[] tokens, SchedulerOptions options) throws Exception {
        try (Scheduler s = new Scheduler(engine, options)) {
            List<Double> rates = new ArrayList<>();
            Completion last = null;
            long drafted = 0;
            long accepted = 0;
            for (int r = 0; r <= reps; r++) {
                // a fresh slot each time: fill the prompt first, then time the generation alone
                Job warm = new Job(tokens, 0, SamplerConfig.greedy(), null, true, 0, false, 0, null, 0);
                submit(s, warm);
                Job job = new Job(tokens, gen, SamplerConfig.greedy(), null, true, 0, true, 0, null, 0);
                long d0 = s.draftedTokens();
                long a0 = s.acceptedDraftTokens();
                Completion c = submit(s, job);
                if (r > 0) { // r == 0 warms the kernels up
                    rates.add(c.generatedTokens() / (c.timings().predictedMs() / 1e3));
                    drafted += s.draftedTokens() - d0;
                    accepted += s.acceptedDraftTokens() - a0;
                }
                last = c;
            }
            return new Run(BenchCommand.median(rates), drafted, accepted, last.text(), last.generatedTokens());
        }
    }

    private static Completion submit(Scheduler s, Job job) throws Exception {
        var f = new CompletableFuture<Completion>();
        s.submit(job, new JobListener() {
            @Override
            public void onDelta(int token, String text) {
            }

            @Override
            public void onDone(Completion c) {
                f.complete(c);
            }
        });
        Completion c = f.get(10, TimeUnit.MINUTES);
        if (c.failed()) {
            throw new IllegalStateException("generation failed: " + c.error());
        }
        return c;
    }
}
