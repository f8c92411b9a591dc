package dev.flint.cli;

import dev.flint.engine.Engine;
import dev.flint.engine.generate.GenerationRequest;
import dev.flint.engine.generate.GenerationResult;
import dev.flint.engine.generate.Session;
import dev.flint.engine.generate.TokenListener;
import dev.flint.engine.sampling.SamplerConfig;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Generates a continuation, streaming text to the terminal; with --json prints token ids and text at the end. */
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
            Session session = engine.newSession();
            TokenListener listener = json ? TokenListener.NONE : (tok, text) -> {
                out.print(text);
                out.flush();
            };
            if (!json && echo) {
                out.print(prompt);
            }
            GenerationResult r = engine.generate(session,
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
}
