package dev.flint.cli;

import dev.flint.cli.synth.ModelShape;
import dev.flint.cli.synth.QuantPlan;
import dev.flint.cli.synth.SyntheticModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a random-weight GGUF with a real model's exact shapes, for benchmarks (speed does not depend on values). */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a random-weight GGUF with a real model's shapes and tokenizer, in any supported type.")
final class SynthCommand extends CliCommand {
    @Option(names = "--model", required = true, paramLabel = "NAME",
            description = "model shape: qwen2.5-coder-0.5b, qwen2.5-coder-1.5b, deepseek-coder-1.3b, starcoder2-3b, llama-3.2-1b")
    String shape;

    @Option(names = "--type", defaultValue = "Q8_0", paramLabel = "TYPE",
            description = "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q6_K, Q4_K_M, Q5_K_M (default Q8_0)")
    String type;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "where to write the GGUF")
    Path output;

    @Option(names = "--vocab", paramLabel = "FILE",
            description = "GGUF whose tokenizer to copy (default: the matching vocabulary in ../shared/fixtures/vocab)")
    Path vocab;

    @Option(names = "--seed", defaultValue = "42", description = "random seed (default 42)")
    long seed;

    @Override
    public Integer call() throws Exception {
        ModelShape s = ModelShape.byName(shape);
        QuantPlan plan = new QuantPlan(type);
        Path v = vocab != null ? vocab : findFixtureVocab(s.vocabFixture());
        long t0 = System.nanoTime();
        SyntheticModel.write(s, plan, v, output, seed);
        err().printf("wrote %s: %s %s, %.1f MiB in %.1f s%n", output, s.name(), plan.fileType(),
                Files.size(output) / 1048576.0, (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private static Path findFixtureVocab(String file) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path c = p.resolve("shared/fixtures/vocab").resolve(file);
            if (Files.isRegularFile(c)) {
                return c;
            }
        }
        throw new IllegalArgumentException("vocabulary " + file + " not found under ../shared/fixtures/vocab; "
                + "give one with --vocab FILE");
    }
}
