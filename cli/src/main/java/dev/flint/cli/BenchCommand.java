package dev.flint.cli;

import dev.flint.cli.bench.MemoryBandwidth;
import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.kv.KvCache;
import dev.flint.engine.model.Batch;
import dev.flint.engine.model.LayerWeights;
import dev.flint.engine.model.ModelWeights;
import dev.flint.engine.model.Transformer;
import dev.flint.engine.tensor.WeightMatrix;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Prompt-processing and generation speed, like llama-bench: pp = P random tokens evaluated in batches; tg = N tokens
 * decoded one at a time; both from an empty cache, or after D tokens already in it ({@code -d}, newer llama-bench's
 * {@code --n-depth}: filled once, not timed). Each figure is the median of R repetitions after a warm-up run, on a
 * model loaded with the server's load-time warm-up: one run of a few tokens does not give C2 enough calls to compile
 * the small-batch kernels (without it, a 4-token batch measured 10-18 tok/s for the first six runs and 50-55 from
 * about the tenth). Also reports memory-bandwidth utilisation of generation: weight bytes read per token × tok/s ÷
 * the read bandwidth measured on this machine with the same threads.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure prompt and generation speed.",
        subcommands = {BenchReplayCommand.class, SpecBenchCommand.class})
final class BenchCommand extends CliCommand {
    // Not required=true: picocli would then demand it for `bench replay` too; call() checks it instead.
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL", description = "GGUF model file (required)")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", description = "prompt tokens (default 512; 0 = skip)")
    int prompt;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", description = "generated tokens (default 128; 0 = skip)")
    int gen;

    @Option(names = {"-t", "--threads"}, description = "threads (default: the CPUs this process may use)")
    int threads;

    @Option(names = {"-r", "--reps"}, defaultValue = "5", description = "repetitions (default 5)")
    int reps;

    @Option(names = {"-d", "--n-depth"}, defaultValue = "0",
            description = "tokens already in the cache before each test, as newer llama-bench's -d (default 0)")
    int depth;

    @Option(names = {"-b", "--batch"}, defaultValue = "512", description = "prompt tokens per forward pass (default 512)")
    int batch;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (model == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "Missing required option: '--model=MODEL'");
        }
        if (depth < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--n-depth must be >= 0");
        }
        int context = depth + Math.max(prompt, gen) + 1;
        EngineOptions opts = new EngineOptions(threads, context, batch, true);
        try (Engine engine = Engine.load(model, opts)) {
            Transformer tf = engine.model().transformer();
            SplittableRandom rnd = new SplittableRandom(1234);
            KvCache cache = tf.newCache(context);
            float[] logits = new float[tf.vocabularySize()];
            // the depth's cells, once: later tests write only positions from depth on
            evaluate(tf, engine, rnd.ints(depth, 0, tf.vocabularySize()).toArray(), 0, cache, logits);
            String at = depth > 0 ? "_d" + depth : "";
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", model.getFileName().toString());
            out.put("size_bytes", engine.model().gguf().fileSize());
            out.put("threads", engine.pool().threads());
            out.put("java", Runtime.version().toString());
            if (prompt > 0) {
                int[] toks = rnd.ints(prompt, 0, tf.vocabularySize()).toArray();
                List<Double> rates = new ArrayList<>();
                for (int r = 0; r <= reps; r++) {
                    long t0 = System.nanoTime();
                    evaluate(tf, engine, toks, depth, cache, logits);
                    double rate = prompt / ((System.nanoTime() - t0) / 1e9);
                    if (r > 0) {
                        rates.add(rate); // r == 0 is the warm-up
                    }
                }
                out.put("pp" + prompt + at + "_tok_s", median(rates));
                out.put("pp" + prompt + at + "_runs", rates);
            }
            if (gen > 0) {
                List<Double> rates = new ArrayList<>();
                Batch b = new Batch();
                for (int r = 0; r <= reps; r++) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < gen; i++) {
                        b.clear().add(rnd.nextInt(tf.vocabularySize()), depth + i, cache, true);
                        tf.forward(b, logits, engine.pool());
                    }
                    double rate = gen / ((System.nanoTime() - t0) / 1e9);
                    if (r > 0) {
                        rates.add(rate);
                    }
                }
                double tg = median(rates);
                long bytes = weightBytesPerToken(engine.model().weights());
                double bw = MemoryBandwidth.measure(engine.pool(), 1L << 30, 5);
                out.put("tg" + gen + at + "_tok_s", tg);
                out.put("tg" + gen + at + "_runs", rates);
                out.put("weight_bytes_per_token", bytes);
                out.put("measured_read_bandwidth_gb_s", bw / 1e9);
                out.put("bandwidth_ceiling_tok_s", bw / bytes);
                out.put("bandwidth_utilisation", tg * bytes / bw);
            }
            if (json) {
                out().println(Json.write(out));
            } else {
                out.forEach((k, v) -> out().println(k + ": " + (v instanceof Double d ? String.format("%.2f", d) : v)));
            }
        }
        return 0;
    }

    /** Evaluates {@code toks} at positions from {@code start} on, in batches of {@link #batch}; logits for the last. */
    private void evaluate(Transformer tf, Engine engine, int[] toks, int start, KvCache cache, float[] logits) {
        Batch b = new Batch();
        for (int from = 0; from < toks.length; from += batch) {
            int m = Math.min(batch, toks.length - from);
            b.clear();
            for (int i = 0; i < m; i++) {
                b.add(toks[from + i], start + from + i, cache, from + i == toks.length - 1);
            }
            tf.forward(b, logits, engine.pool());
        }
    }

    /** Bytes of every matrix a decode step reads (the embedding contributes one row, counted as nothing). */
    static long weightBytesPerToken(ModelWeights w) {
        long sum = w.output().data().byteSize();
        for (LayerWeights l : w.layers()) {
            for (WeightMatrix m : new WeightMatrix[] {l.wq(), l.wk(), l.wv(), l.wo(), l.ffnGate(), l.ffnUp(), l.ffnDown()}) {
                if (m != null) {
                    sum += m.data().byteSize();
                }
            }
        }
        return sum;
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length == 0 ? 0 : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
