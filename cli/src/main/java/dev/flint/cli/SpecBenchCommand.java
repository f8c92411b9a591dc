package dev.flint.cli;

import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.model.Transformer;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.engine.sched.Completion;
import dev.flint.engine.sched.Job;
import dev.flint.engine.sched.JobListener;
import dev.flint.engine.sched.Scheduler;
import dev.flint.engine.sched.SchedulerOptions;
import dev.flint.engine.spec.DraftModel;
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
 * {@code flint bench spec}: greedy generation through the server's scheduler with and without speculation, on a
 * prompt of the user's choice (an edit-like prompt is what n-gram speculation is for: code that is being rewritten
 * repeats the code above it). Drafts come from a draft model with {@code --draft}, else from n-grams of the context.
 * Reports tokens/s of both, the speed-up, drafted and accepted tokens, and checks that both produced the same text.
 */
@Command(name = "spec", mixinStandardHelpOptions = true,
        description = "Measure speculative decoding (a draft model's or n-gram drafts) against plain greedy decoding.")
final class SpecBenchCommand extends CliCommand {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Mixin
    PromptInput prompt;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", description = "tokens to generate (default 128)")
    int gen;

    @Option(names = "--draft-max", defaultValue = "" + SchedulerOptions.DEFAULT_DRAFT_MAX,
            description = "drafted tokens per step (default ${DEFAULT-VALUE})")
    int draftMax;

    @Option(names = {"--draft", "-md", "--model-draft"}, paramLabel = "MODEL",
            description = "draft model sharing the model's vocabulary (default: n-gram drafts from the context)")
    Path draft;

    @Mixin
    DraftLimitOptions draftLimits;

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
        try (Engine engine = Engine.load(model, new EngineOptions(threads, 4096, 0, true, 0));
             DraftModel draftModel = draft == null ? null : DraftModel.load(draft, engine, true)) {
            int[] tokens = engine.tokenizer().encode(text, true, true);
            int ctx = tokens.length + gen + draftMax + 8;
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", model.getFileName().toString());
            out.put("drafter", draftModel == null ? "ngram" : "model");
            if (draftModel != null) {
                out.put("draft_model", draft.getFileName().toString());
                out.put("draft_p_min", draftLimits.draftPMin);
            }
            out.put("threads", engine.pool().threads());
            out.put("prompt_tokens", tokens.length);
            out.put("n_gen", gen);
            out.put("draft_max", draftMax);
            out.put("draft_min", draftLimits.draftMin);
            SchedulerOptions base = new SchedulerOptions(1, ctx, 1, 512);
            Tally plain = new Tally();
            Tally spec = new Tally();
            try (Scheduler ps = new Scheduler(engine, base);
                 Scheduler ss = new Scheduler(engine, draftLimits.applyTo(base.withDraftMax(draftMax)), draftModel)) {
                // alternating, so that a change in the machine's load affects both alike; r == 0 warms up
                for (int r = 0; r <= reps; r++) {
                    rep(ps, tokens, plain, r > 0);
                    rep(ss, tokens, spec, r > 0);
                }
            }
            out.put("reps", reps);
            out.put("plain_tok_s_all", plain.rates);
            out.put("spec_tok_s_all", spec.rates);
            out.put("plain_tok_s", plain.rate());
            out.put("spec_tok_s", spec.rate());
            out.put("speedup", spec.rate() / plain.rate());
            out.put("drafted", spec.drafted);
            out.put("accepted", spec.accepted);
            out.put("acceptance", spec.drafted == 0 ? 0 : (double) spec.accepted / spec.drafted);
            out.put("target_steps_per_token", spec.steps / (double) spec.generated);
            out.put("same_output", plain.text.equals(spec.text));
            // what a step costs: one token, and one token with draft_max drafts (all verified in one pass); the
            // speed-up at acceptance a is about (1 + accepted per step) / (cost ratio), whatever the model writes
            var tf = engine.model().transformer();
            double one = forwardMs(engine, tf, 1);
            double full = forwardMs(engine, tf, draftMax + 1);
            out.put("step_ms_1_token", one);
            out.put("step_ms_" + (draftMax + 1) + "_tokens", full);
            if (draftModel == null) {
                out.put("speedup_if_all_accepted", (draftMax + 1) / (full / one));
            } else {
                // drafting draft_max tokens takes draft_max one-token passes of the draft model
                double draftOne = forwardMs(engine, draftModel.transformer(), 1);
                out.put("draft_step_ms_1_token", draftOne);
                out.put("speedup_if_all_accepted", (draftMax + 1) / ((full + draftMax * draftOne) / one));
            }
            out.put("generated_tokens", spec.last.generatedTokens());
            if (json) {
                out().println(Json.write(out));
            } else {
                out.forEach((k, v) -> out().println(k + ": " + (v instanceof Double d ? String.format("%.3f", d) : v)));
            }
            return plain.text.equals(spec.text) ? 0 : 2;
        }
    }

    /** Median milliseconds of a forward pass of {@code tf} over n tokens at positions 64.. of a fresh cache. */
    private double forwardMs(Engine engine, Transformer tf, int n) {
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

    /** What the timed repetitions of one configuration produced. */
    private static final class Tally {
        final List<Double> rates = new ArrayList<>();
        long drafted;
        long accepted;
        long steps;
        long generated;
        String text;
        Completion last;

        double rate() {
            return BenchCommand.median(rates);
        }
    }

    /** One repetition: the prompt is evaluated first, outside the timing, then the generation is timed. */
    private void rep(Scheduler s, int[] tokens, Tally t, boolean timed) throws Exception {
        // a fresh slot each time: two tokens, so that a draft model follows the prompt in the one decode step (it
        // does so in the first decode step)
        submit(s, new Job(tokens, 2, SamplerConfig.greedy(), null, true, 0, false, 0, null, 0));
        Job job = new Job(tokens, gen, SamplerConfig.greedy(), null, true, 0, true, 0, null, 0);
        long d0 = s.draftedTokens();
        long a0 = s.acceptedDraftTokens();
        long s0 = s.decodeSteps();
        Completion c = submit(s, job);
        if (timed) {
            t.rates.add(c.generatedTokens() / (c.timings().predictedMs() / 1e3));
            t.drafted += s.draftedTokens() - d0;
            t.accepted += s.acceptedDraftTokens() - a0;
            t.steps += s.decodeSteps() - s0;
            t.generated += c.generatedTokens();
        }
        t.text = c.text();
        t.last = c;
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
