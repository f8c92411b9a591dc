package dev.flint.cli;

import dev.flint.engine.Engine;
import dev.flint.engine.generate.GenerationRequest;
import dev.flint.engine.generate.GenerationResult;
import dev.flint.engine.generate.TokenListener;
import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.engine.sched.Completion;
import dev.flint.engine.sched.Job;
import dev.flint.engine.sched.JobListener;
import dev.flint.engine.sched.Scheduler;
import dev.flint.engine.sched.SchedulerOptions;
import dev.flint.engine.spec.DraftModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Generates a continuation, streaming text to the terminal; with --json prints token ids and text at the end. With
 * {@code --draft MODEL} it generates through the scheduler with that model drafting (the server's speculative path,
 * any sampling); otherwise through a session, with n-gram drafts under greedy sampling if {@code --draft-max} is set.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate text from a prompt.")
final class GenerateCommand extends CliCommand {
    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptInput input;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", paramLabel = "N", description = "tokens to generate (default 128)")
    int maxTokens;

    @Option(names = "--temp", defaultValue = "0.8", description = "temperature; 0 = greedy (default 0.8)")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", description = "top-k, 0 = off (default 40)")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "top-p, 1 = off (default 0.95)")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", description = "min-p, 0 = off (default 0.05)")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "repetition penalty, 1 = off (default 1.0)")
    float repeatPenalty;

    @Option(names = "--seed", description = "random seed (default: random)")
    Long seed;

    @Option(names = "--stop", description = "stop string (repeatable)")
    List<String> stop;

    @Option(names = "--json", description = "print the generated token ids and text as JSON instead of streaming")
    boolean json;

    @Option(names = {"--draft", "-md", "--model-draft"}, paramLabel = "MODEL",
            description = "a small model with the same vocabulary that drafts tokens for the model to verify "
                    + "(same output, any sampling; --draft-max defaults to 8 with it)")
    Path draft;

    @Mixin
    DraftLimitOptions draftLimits;

    @Option(names = "--echo", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "print the prompt before the generated text (default: true; not with --json)")
    boolean echo;

    @Override
    public Integer call() throws Exception {
        String prompt = input.read();
        PrintWriter out = out();
        try (Engine engine = Engine.load(modelOptions.model, modelOptions.engineOptions(true))) {
            int[] tokens = engine.tokenizer().encode(prompt, true, true);
            SamplerConfig sampling = SamplerConfig.defaults()
                    .withTemperature(temperature).withTopK(topK).withTopP(topP).withMinP(minP)
                    .withRepeatPenalty(repeatPenalty).withSeed(seed);
            TokenListener listener = json ? TokenListener.NONE : (tok, text) -> {
                out.print(text);
                out.flush();
            };
            if (!json && echo) {
                out.print(prompt);
            }
            if (draft != null) {
                return generateWithDraft(engine, tokens, sampling, listener, out);
            }
            GenerationResult r = engine.generate(engine.newSession(),
                    new GenerationRequest(tokens, maxTokens, sampling, stop, false, null), listener);
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("prompt_tokens", tokens);
                o.put("tokens", r.tokens());
                o.put("text", r.text());
                o.put("finish_reason", r.finishReason().name().toLowerCase());
                o.put("timings", r.timings());
                o.put("drafted_tokens", r.draftedTokens());
                o.put("accepted_tokens", r.acceptedTokens());
                out.println(Json.write(o));
            } else {
                out.println();
                err().printf("%n[%d prompt tokens in %.0f ms, %d generated in %.0f ms: %.1f tok/s; %s]%n",
                        tokens.length, r.timings().promptMs(), r.tokens().length, r.timings().generationMs(),
                        r.tokens().length * 1000.0 / Math.max(1e-9, r.timings().generationMs()),
                        r.finishReason().name().toLowerCase());
            }
        }
        return 0;
    }

    /** The scheduler's path with a draft model: one slot, the job's text streamed as it is accepted. */
    private int generateWithDraft(Engine engine, int[] tokens, SamplerConfig sampling, TokenListener listener,
                                  PrintWriter out) throws Exception {
        int draftMax = modelOptions.draftMax > 0 ? modelOptions.draftMax : SchedulerOptions.DEFAULT_DRAFT_MAX;
        int ctx = tokens.length + maxTokens + draftMax + 8;
        SchedulerOptions options = draftLimits.applyTo(new SchedulerOptions(1, ctx, 1, 512).withDraftMax(draftMax));
        try (DraftModel draftModel = DraftModel.load(draft, engine, true);
             Scheduler scheduler = new Scheduler(engine, options, draftModel)) {
            List<Integer> ids = new ArrayList<>();
            var done = new CompletableFuture<Completion>();
            scheduler.submit(new Job(tokens, maxTokens, sampling, stop, false, 0, false, 0, null, 0),
                    new JobListener() {
                        @Override
                        public void onDelta(int token, String text) {
                            if (token >= 0) {
                                ids.add(token);
                            }
                            listener.onToken(token, text);
                        }

                        @Override
                        public void onDone(Completion c) {
                            done.complete(c);
                        }
                    });
            Completion c = done.get(1, TimeUnit.DAYS);
            if (c.failed()) {
                err().println("flint: generation failed: " + c.error());
                return 1;
            }
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("prompt_tokens", tokens);
                o.put("tokens", ids);
                o.put("text", c.text());
                o.put("finish_reason", c.finishReason().name().toLowerCase());
                o.put("timings", c.timings());
                o.put("drafted_tokens", scheduler.draftedTokens());
                o.put("accepted_tokens", scheduler.acceptedDraftTokens());
                out.println(Json.write(o));
            } else {
                out.println();
                err().printf("%n[%d prompt tokens in %.0f ms, %d generated in %.0f ms: %.1f tok/s; %d of %d drafted "
                                + "tokens accepted; %s]%n", tokens.length, c.timings().promptMs(), c.generatedTokens(),
                        c.timings().predictedMs(),
                        c.generatedTokens() * 1000.0 / Math.max(1e-9, c.timings().predictedMs()),
                        scheduler.acceptedDraftTokens(), scheduler.draftedTokens(),
                        c.finishReason().name().toLowerCase());
            }
            return 0;
        }
    }
}
