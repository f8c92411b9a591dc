package dev.flint.bench;

import dev.flint.cli.synth.ModelShape;
import dev.flint.cli.synth.QuantPlan;
import dev.flint.cli.synth.SyntheticModel;
import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.kv.KvCache;
import dev.flint.engine.model.Batch;
import dev.flint.engine.model.Transformer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One decode step of a random-weight Qwen2.5-Coder-0.5B-shaped model at two context positions: the difference
 * between {@code position = 0} and {@code position = 1024} is the cost of attention over 1k cached tokens.
 * Needs ../shared/fixtures/vocab for the tokenizer (or run from a checkout beside shared/).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ForwardBench {
    @Param({"Q8_0"})
    String type;

    @Param({"0", "1024"})
    int position;

    private Path file;
    private Engine engine;
    private KvCache cache;
    private final Batch batch = new Batch();
    private float[] logits;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        file = Files.createTempFile("flint-bench", ".gguf");
        ModelShape shape = ModelShape.byName("qwen2.5-coder-0.5b");
        Path vocab = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null && vocab == null; p = p.getParent()) {
            Path c = p.resolve("shared/fixtures/vocab/" + shape.vocabFixture());
            if (Files.exists(c)) {
                vocab = c;
            }
        }
        SyntheticModel.write(shape, new QuantPlan(type), vocab, file, 1);
        engine = Engine.load(file, new EngineOptions(2, position + 8, 64, true));
        cache = engine.model().transformer().newCache(position + 8);
        logits = new float[engine.model().vocabularySize()];
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        engine.close();
        Files.deleteIfExists(file);
    }

    @Benchmark
    public float[] decodeStep() {
        Transformer tf = engine.model().transformer();
        batch.clear().add(42, position, cache, true);
        tf.forward(batch, logits, engine.pool());
        return logits;
    }
}
