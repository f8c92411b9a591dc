package dev.flint.bench;

import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.tokenizer.Tokenizer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Tokenizing a small source file, which the server does on every keystroke: microseconds per encode of the
 * tokenizer corpus's {@code sample.py} with each fixture vocabulary. Fixtures come from {@code -Dflint.fixtures}
 * (default {@code ../shared/fixtures}).
 * Run: {@code java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar TokenizerBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class TokenizerBench {
    @Param({"llama-spm", "deepseek-coder", "starcoder", "gpt-2", "qwen2"})
    String vocab;

    private Tokenizer tokenizer;
    private String text;

    @Setup
    public void setup() throws Exception {
        Path fixtures = Path.of(System.getProperty("flint.fixtures", "../shared/fixtures"));
        try (GgufFile f = GgufFile.open(fixtures.resolve("vocab/ggml-vocab-" + vocab + ".gguf"))) {
            tokenizer = Tokenizer.fromGguf(f);
        }
        text = Files.readString(fixtures.resolve("tokenizer-corpus/sample.py"));
    }

    @Benchmark
    public int[] encode() {
        return tokenizer.encode(text, false, false);
    }
}
