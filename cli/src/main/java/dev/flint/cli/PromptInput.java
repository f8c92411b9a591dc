package dev.flint.cli;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A prompt given as a file or inline text. */
final class PromptInput {
    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "read the prompt from FILE")
    Path file;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the prompt text")
    String text;

    String read() throws IOException {
        if (file != null) {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        }
        return text;
    }
}
