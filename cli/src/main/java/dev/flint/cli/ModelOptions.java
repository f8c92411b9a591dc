package dev.flint.cli;

import dev.flint.engine.EngineOptions;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by every command that loads a model. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "compute threads (default: the CPUs this process may use)")
    int threads;

    @Option(names = {"-c", "--ctx"}, paramLabel = "N",
            description = "context length in tokens (default: the model's, capped at 4096)")
    int contextLength;

    @Option(names = "--draft-max", paramLabel = "N",
            description = "speculative decoding under greedy sampling: draft up to N tokens per step from n-grams "
                    + "of the context (default 0 = off)")
    int draftMax;

    EngineOptions engineOptions(boolean warmup) {
        return new EngineOptions(threads, contextLength, 0, warmup, draftMax);
    }
}
