package dev.flint.cli;

import dev.flint.engine.Engine;
import dev.flint.engine.kv.KvCache;
import dev.flint.engine.model.Batch;
import dev.flint.engine.model.Transformer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates a prompt in batched passes and prints, as JSON, the prompt tokens and the top-k logits after every
 * position; optionally writes the last position's full logits as float32 little-endian (the layout of the
 * reference fixtures), so any reference can be compared with Flint.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a prompt; print top-k logits per position as JSON.")
final class EvalCommand extends CliCommand {
    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = {"-f", "--file"}, paramLabel = "PROMPT_FILE", description = "prompt text file")
        Path file;

        @Option(names = "--tokens", split = ",", paramLabel = "IDS", description = "prompt as token ids: 1,2,3")
        int[] tokens;
    }

    @Option(names = "--top", defaultValue = "10", paramLabel = "K", description = "logits to print per position (default 10)")
    int top;

    @Option(names = "--logits-out", paramLabel = "FILE", description = "write the last position's logits (float32 LE)")
    Path logitsOut;

    @Override
    public Integer call() throws Exception {
        try (Engine engine = Engine.load(modelOptions.model, modelOptions.engineOptions(false))) {
            int[] prompt = source.tokens != null ? source.tokens
                    : engine.tokenizer().encode(Files.readString(source.file), true, true);
            if (prompt.length == 0) {
                throw new IllegalArgumentException("the prompt has no tokens");
            }
            Transformer tf = engine.model().transformer();
            int nv = tf.vocabularySize();
            KvCache cache = tf.newCache(prompt.length);
            int chunk = 256;
            float[] logits = new float[Math.min(chunk, prompt.length) * nv];
            List<List<Object[]>> tops = new ArrayList<>();
            Batch batch = new Batch();
            for (int start = 0; start < prompt.length; start += chunk) {
                int m = Math.min(chunk, prompt.length - start);
                batch.clear();
                for (int i = 0; i < m; i++) {
                    batch.add(prompt[start + i], start + i, cache, true);
                }
                tf.forward(batch, logits, engine.pool());
                for (int i = 0; i < m; i++) {
                    tops.add(topK(logits, i * nv, nv, top));
                }
                if (start + m == prompt.length && logitsOut != null) {
                    writeLogits(logitsOut, Arrays.copyOfRange(logits, (m - 1) * nv, m * nv));
                }
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("n_vocab", nv);
            out.put("prompt_tokens", prompt);
            out.put("prompt_top" + top, tops);
            out().println(Json.write(out));
        }
        return 0;
    }

    static List<Object[]> topK(float[] logits, int off, int n, int k) {
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Float.compare(logits[off + b], logits[off + a]));
        List<Object[]> r = new ArrayList<>(k);
        for (int i = 0; i < Math.min(k, n); i++) {
            r.add(new Object[] {idx[i], logits[off + idx[i]]});
        }
        return r;
    }

    private static void writeLogits(Path path, float[] v) throws java.io.IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        try (OutputStream os = Files.newOutputStream(path)) {
            os.write(b.array());
        }
    }
}
