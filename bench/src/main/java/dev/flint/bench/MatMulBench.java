package dev.flint.bench;

import dev.flint.engine.parallel.WorkerPool;
import dev.flint.engine.tensor.Activations;
import dev.flint.engine.tensor.GgmlType;
import dev.flint.engine.tensor.MatMul;
import dev.flint.engine.tensor.RandomWeights;
import dev.flint.engine.tensor.WeightMatrix;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Matrix products per weight type at Qwen2.5-Coder-0.5B's FFN shape (4864 x 896; the down projection transposed is
 * 896 x 4864): {@code tokens = 1} is a decode step (matrix-vector, memory bound), {@code tokens = 64} a prefill
 * batch (each weight block reused across tokens). Weights live off-heap like a mapped file.
 * Run: {@code java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar MatMulBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatMulBench {
    @Param({"Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q6_K", "F16"})
    String type;

    @Param({"1", "64"})
    int tokens;

    @Param({"2"})
    int threads;

    @Param({"4864"})
    int rows;

    @Param({"896"})
    int cols;

    private Arena arena;
    private WorkerPool pool;
    private WeightMatrix w;
    private Activations x;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        GgmlType t = GgmlType.valueOf(type);
        int c = t.blockSize == 256 && cols % 256 != 0 ? 1024 : cols; // K-quants need rows of a multiple of 256
        arena = Arena.ofShared();
        byte[] bytes = RandomWeights.bytes(t, (long) rows * c, 7);
        MemorySegment seg = arena.allocate(bytes.length, 64);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, seg, 0, bytes.length);
        w = WeightMatrix.of(t, seg, rows, c);
        pool = new WorkerPool(threads);
        x = new Activations(w.activationFormat(), tokens, c);
        float[] in = new float[tokens * c];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < in.length; i++) {
            in[i] = (float) r.nextGaussian();
        }
        x.set(in, c, tokens);
        out = new float[tokens * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        MatMul.apply(pool, w, x, out);
        return out;
    }
}
