package dev.flint.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One matrix product (one token, or a batch) of two builds in one JVM, measured turn about: {@link AlternatingAb}'s method for a
 * single kernel. Each jar gets its own class loader, so C2 compiles each build's kernel separately, and the same
 * random weights and activations; after a warm-up the two run in turn for 0.3 s each, the order flipped every round.
 * Reports each side's median nanoseconds per weight and in how many rounds the second jar was faster. Two runs of
 * one jar against itself measured within 2 % (13/20 rounds) here, which is the resolution to expect.
 * <p>
 * Usage: {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp benchmarks.jar
 * dev.flint.bench.KernelAb OLD.jar NEW.jar TYPE ROWS COLS ROUNDS [THREADS [TOKENS]]}, the jars the CLI's shaded
 * {@code flint.jar} (or folders of classes); the engine is driven through its public API by reflection.
 */
public final class KernelAb {
    private KernelAb() {
    }

    /** One build's matrix, activations and pool, and its {@code MatMul.apply}. */
    private static final class Build {
        final Method apply;
        final Object pool;
        final Object matrix;
        final Object activations;
        final float[] out;

        Build(Path jar, String type, int rows, int cols, int threads, int tokens, Arena arena) throws Exception {
            ClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()},
                    ClassLoader.getPlatformClassLoader());
            Class<?> typeClass = loader.loadClass("dev.flint.engine.tensor.GgmlType");
            Object t = typeClass.getMethod("valueOf", String.class).invoke(null, type);
            byte[] bytes = (byte[]) loader.loadClass("dev.flint.engine.tensor.RandomWeights")
                    .getMethod("bytes", typeClass, long.class, long.class).invoke(null, t, (long) rows * cols, 7L);
            MemorySegment data = arena.allocate(bytes.length, 64);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
            Class<?> matrixClass = loader.loadClass("dev.flint.engine.tensor.WeightMatrix");
            matrix = matrixClass.getMethod("of", typeClass, MemorySegment.class, int.class, int.class)
                    .invoke(null, t, data, rows, cols);
            Class<?> formatClass = loader.loadClass("dev.flint.engine.tensor.ActivationFormat");
            Object format = matrixClass.getMethod("activationFormat").invoke(matrix);
            Class<?> activationsClass = loader.loadClass("dev.flint.engine.tensor.Activations");
            activations = activationsClass.getConstructor(formatClass, int.class, int.class)
                    .newInstance(format, tokens, cols);
            float[] in = new float[tokens * cols];
            SplittableRandom r = new SplittableRandom(3);
            for (int i = 0; i < in.length; i++) {
                in[i] = (float) r.nextGaussian();
            }
            activationsClass.getMethod("set", float[].class, int.class, int.class).invoke(activations, in, cols, tokens);
            Class<?> poolClass = loader.loadClass("dev.flint.engine.parallel.WorkerPool");
            pool = poolClass.getConstructor(int.class).newInstance(threads);
            apply = loader.loadClass("dev.flint.engine.tensor.MatMul")
                    .getMethod("apply", poolClass, matrixClass, activationsClass, float[].class);
            out = new float[tokens * rows];
        }

        void run() throws Exception {
            apply.invoke(null, pool, matrix, activations, out);
        }

        /** Nanoseconds per weight, the mean of as many products as fit in about {@code nanos}. */
        double nsPerWeight(long nanos, long weights) throws Exception {
            long t0 = System.nanoTime();
            int n = 0;
            do {
                run();
                n++;
            } while (System.nanoTime() - t0 < nanos);
            return (System.nanoTime() - t0) / (double) n / weights;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            System.err.println("usage: KernelAb OLD.jar NEW.jar TYPE ROWS COLS ROUNDS [THREADS [TOKENS]]");
            System.exit(2);
        }
        String type = args[2];
        int rows = Integer.parseInt(args[3]);
        int cols = Integer.parseInt(args[4]);
        int rounds = Integer.parseInt(args[5]);
        int threads = args.length > 6 ? Integer.parseInt(args[6]) : 1;
        int tokens = args.length > 7 ? Integer.parseInt(args[7]) : 1;
        long weights = (long) rows * cols * tokens; // per weight and token
        try (Arena arena = Arena.ofShared()) {
            Build[] builds = {
                new Build(Path.of(args[0]), type, rows, cols, threads, tokens, arena),
                new Build(Path.of(args[1]), type, rows, cols, threads, tokens, arena)
            };
            for (Build b : builds) { // warm-up: C2 compiles each build's kernel
                b.nsPerWeight(3_000_000_000L, weights);
            }
            double[][] ns = new double[2][rounds];
            for (int i = 0; i < rounds; i++) {
                for (int q = 0; q < 2; q++) {
                    int k = i % 2 == 0 ? q : 1 - q;
                    ns[k][i] = builds[k].nsPerWeight(300_000_000L, weights);
                }
            }
            double[] ratio = new double[rounds];
            int faster = 0;
            for (int i = 0; i < rounds; i++) {
                ratio[i] = ns[1][i] / ns[0][i];
                faster += ratio[i] < 1 ? 1 : 0;
            }
            Arrays.sort(ratio);
            Arrays.sort(ns[0]);
            Arrays.sort(ns[1]);
            for (Build b : builds) {
                ((AutoCloseable) b.pool).close();
            }
            System.out.printf("%s %d x %d, %d thread(s), %d token(s): old %.4f ns per weight and token, new %.4f "
                    + "(medians); new/old %.3f (median of rounds), new faster in %d/%d rounds%n", type, rows, cols,
                    threads, tokens,
                    ns[0][rounds / 2], ns[1][rounds / 2], ratio[rounds / 2], faster, rounds);
        }
    }
}
