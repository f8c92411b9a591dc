package dev.flint.engine.tokenizer;

import dev.flint.engine.Fixtures;
import dev.flint.engine.gguf.GgufFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Locates the shared llama.cpp fixtures and reads their test-vector formats. */
final class TokenizerFixtures {
    static final List<String> VOCABS = List.of("llama-spm", "deepseek-coder", "starcoder", "gpt-2", "qwen2");
    private static final Map<Path, Tokenizer> CACHE = new ConcurrentHashMap<>();

    private TokenizerFixtures() {
    }

    static Path root() {
        return Fixtures.dir();
    }

    static Path vocabFile(String vocab) {
        return root().resolve("vocab/ggml-vocab-" + vocab + ".gguf");
    }

    /** Loads (once per test run) the tokenizer of a GGUF file. */
    static Tokenizer tokenizer(Path gguf) {
        return CACHE.computeIfAbsent(gguf, p -> {
            try (GgufFile f = GgufFile.open(p)) {
                return Tokenizer.fromGguf(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static Tokenizer vocab(String vocab) {
        return tokenizer(vocabFile(vocab));
    }

    record Case(int index, String input, int[] expected) {
        @Override
        public String toString() {
            return "#" + index + " " + input.replace("\n", "\\n").replace("\t", "\\t");
        }
    }

    /**
     * llama.cpp's test-tokenizer-0 format: inputs separated by "\n__ggml_vocab_test__\n" (so an input's own trailing
     * newline is kept only if it has two), outputs one line of ids each.
     */
    static List<Case> cases(String vocab) {
        String inp = read(root().resolve("vocab/ggml-vocab-" + vocab + ".gguf.inp"));
        List<String> outs = read(root().resolve("vocab/ggml-vocab-" + vocab + ".gguf.out")).lines().toList();
        String sep = "\n__ggml_vocab_test__\n";
        List<String> inputs = new ArrayList<>();
        int pos = 0;
        while (pos < inp.length()) {
            int next = inp.indexOf(sep, pos);
            if (next < 0) {
                inputs.add(inp.substring(pos));
                break;
            }
            inputs.add(inp.substring(pos, next));
            pos = next + sep.length();
        }
        if (inputs.size() != outs.size()) {
            throw new IllegalStateException(vocab + ": " + inputs.size() + " inputs but " + outs.size() + " outputs");
        }
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            cases.add(new Case(i, inputs.get(i), ids(outs.get(i))));
        }
        return cases;
    }

    static int[] ids(String line) {
        String s = line.strip();
        return s.isEmpty() ? new int[0] : Arrays.stream(s.split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
