package dev.flint.bench;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Two builds of Flint in one JVM, measured turn about: on a VM whose speed drifts by a fifth within minutes, runs of
 * two processes minutes apart cannot tell a 5 % change from the drift, but runs alternated every second can. Each
 * jar gets its own class loader (so C2 compiles each build's kernels separately), its own engine on the same model,
 * and a cache filled to the same depth; after a warm-up, the two run in turn, the order flipped every round.
 * Reports each side's median and quartiles and in how many rounds the second jar was faster.
 * <p>
 * Usage: {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp benchmarks.jar
 * dev.flint.bench.AlternatingAb OLD.jar NEW.jar MODEL DEPTH STEPS ROUNDS THREADS [BATCH]}: each run decodes STEPS
 * tokens one at a time after DEPTH cached ones, or with BATCH > 0 evaluates one batch of that many tokens there.
 * The jars are the CLI's shaded {@code flint.jar}; the engine is driven through its public API by reflection.
 */
public final class AlternatingAb {
    private AlternatingAb() {
    }

    /** One build: its engine, transformer and cache, reached by reflection through its own class loader. */
    private static final class Build {
        final String name;
        final Object transformer;
        final Object pool;
        final Object cache;
        final Class<?> batchClass;
        final Method forward;
        final Method clear;
        final Method add;
        final float[] logits;

        Build(String name, Path jar, Path model, int depth, int threads, int context) throws Exception {
            this.name = name;
            ClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()},
                    ClassLoader.getPlatformClassLoader());
            Class<?> options = loader.loadClass("dev.flint.engine.EngineOptions");
            Object opts = options.getConstructor(int.class, int.class, int.class, boolean.class)
                    .newInstance(threads, context, 512, true);
            Class<?> engineClass = loader.loadClass("dev.flint.engine.Engine");
            Object engine = engineClass.getMethod("load", Path.class, options).invoke(null, model, opts);
            Object m = engineClass.getMethod("model").invoke(engine);
            transformer = m.getClass().getMethod("transformer").invoke(m);
            pool = engineClass.getMethod("pool").invoke(engine);
            cache = transformer.getClass().getMethod("newCache", int.class).invoke(transformer, context);
            batchClass = loader.loadClass("dev.flint.engine.model.Batch");
            Class<?> kv = loader.loadClass("dev.flint.engine.kv.KvCache");
            forward = transformer.getClass().getMethod("forward", batchClass, float[].class, pool.getClass());
            clear = batchClass.getMethod("clear");
            add = batchClass.getMethod("add", int.class, int.class, kv, boolean.class);
            int vocab = (Integer) transformer.getClass().getMethod("vocabularySize").invoke(transformer);
            logits = new float[vocab];
            fill(depth, vocab);
        }

        /** The cache's first {@code depth} cells, from random tokens (the same in both builds). */
        private void fill(int depth, int vocab) throws Exception {
            SplittableRandom r = new SplittableRandom(7);
            Object b = batchClass.getConstructor().newInstance();
            for (int from = 0; from < depth; from += 512) {
                clear.invoke(b);
                for (int i = from; i < Math.min(depth, from + 512); i++) {
                    add.invoke(b, r.nextInt(1000, vocab), i, cache, i == depth - 1);
                }
                forward.invoke(transformer, b, logits, pool);
            }
        }

        /** Tokens per second of one run. */
        double run(int depth, int steps, int batch) throws Exception {
            Object b = batchClass.getConstructor().newInstance();
            long t0 = System.nanoTime();
            if (batch > 0) {
                clear.invoke(b);
                for (int i = 0; i < batch; i++) {
                    add.invoke(b, 1000 + i, depth + i, cache, i == batch - 1);
                }
                forward.invoke(transformer, b, logits, pool);
                return batch / ((System.nanoTime() - t0) / 1e9);
            }
            for (int i = 0; i < steps; i++) {
                clear.invoke(b);
                add.invoke(b, 1000 + i, depth + i, cache, true);
                forward.invoke(transformer, b, logits, pool);
            }
            return steps / ((System.nanoTime() - t0) / 1e9);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 7) {
            System.err.println("usage: AlternatingAb OLD.jar NEW.jar MODEL DEPTH STEPS ROUNDS THREADS [BATCH]");
            System.exit(2);
        }
        Path model = Path.of(args[2]);
        int depth = Integer.parseInt(args[3]);
        int steps = Integer.parseInt(args[4]);
        int rounds = Integer.parseInt(args[5]);
        int threads = Integer.parseInt(args[6]);
        int batch = args.length > 7 ? Integer.parseInt(args[7]) : 0;
        int context = depth + Math.max(steps, batch) + 8;
        Build[] builds = {
            new Build("old", Path.of(args[0]), model, depth, threads, context),
            new Build("new", Path.of(args[1]), model, depth, threads, context)};
        for (int w = 0; w < 3; w++) {
            for (Build b : builds) {
                b.run(depth, steps, batch);
            }
        }
        List<List<Double>> rates = List.of(new ArrayList<>(), new ArrayList<>());
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < 2; k++) {
                int i = r % 2 == 0 ? k : 1 - k;
                rates.get(i).add(builds[i].run(depth, steps, batch));
            }
        }
        int newFaster = 0;
        for (int r = 0; r < rounds; r++) {
            if (rates.get(1).get(r) > rates.get(0).get(r)) {
                newFaster++;
            }
        }
        for (int i = 0; i < 2; i++) {
            List<Double> sorted = new ArrayList<>(rates.get(i));
            Collections.sort(sorted);
            int n = sorted.size();
            System.out.printf("%s: median %.2f tok/s (quartiles %.2f-%.2f)%n", builds[i].name, sorted.get(n / 2),
                    sorted.get(n / 4), sorted.get(3 * n / 4));
        }
        System.out.printf("new faster in %d of %d rounds%n", newFaster, rounds);
        System.exit(0); // the engines' worker threads would keep the JVM alive
    }
}
