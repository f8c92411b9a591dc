package dev.flint.engine.model;

import dev.flint.engine.ModelLoadException;
import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.gguf.GgufTensor;
import dev.flint.engine.tensor.GgmlType;
import dev.flint.engine.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * All weights of a model, bound by their GGUF names ({@code token_embd}, {@code blk.N.attn_q}, ...). Matrices are
 * views over the mapped file; the small vectors (norms, biases) are copied to float arrays. Shapes are checked
 * against the {@link ModelConfig} so a mismatched file fails at load with the tensor's name, not mid-inference.
 */
public record ModelWeights(
        WeightMatrix tokenEmbedding,
        LayerWeights[] layers,
        float[] outputNorm, float[] outputNormBias,
        WeightMatrix output,
        float[] ropeFreqFactors) {

    public static ModelWeights load(GgufFile f, ModelConfig c, int nVocab) {
        for (GgufTensor t : f.tensors().values()) {
            if (!t.type().supported) {
                throw new ModelLoadException("model uses tensor type " + t.type() + " (tensor '" + t.name()
                        + "'), which Flint does not support yet; supported: " + GgmlType.supportedNames());
            }
        }
        Binder b = new Binder(f);
        int e = c.embeddingLength();
        // with an output matrix of their own, the embeddings are only looked up: no repacked copy for products
        boolean tied = f.tensor("output.weight") == null;
        WeightMatrix[] embd = new WeightMatrix[1];
        LayerWeights[] layers = new LayerWeights[c.blockCount()];
        boolean gated = c.architecture().ffn == Architecture.FeedForward.SWIGLU;
        // layers bound on all the CPUs the process may use: repacking the K-quants is compute work (about 2.5 s
        // for a 1.5B Q4_K_M file on one core)
        IntConsumer bind = i -> {
            if (i == layers.length) { // the embeddings: as large as several layers, so bound beside them
                embd[0] = b.matrix("token_embd.weight", nVocab, e, true, tied);
                return;
            }
            String p = "blk." + i + ".";
            int ff = c.feedForwardLength();
            layers[i] = new LayerWeights(
                    b.vector(p + "attn_norm.weight", e, true), b.vector(p + "attn_norm.bias", e, false),
                    b.matrix(p + "attn_q.weight", c.qDim(), e, true), b.vector(p + "attn_q.bias", c.qDim(), false),
                    b.matrix(p + "attn_k.weight", c.kvDim(), e, true), b.vector(p + "attn_k.bias", c.kvDim(), false),
                    b.matrix(p + "attn_v.weight", c.kvDim(), e, true), b.vector(p + "attn_v.bias", c.kvDim(), false),
                    b.matrix(p + "attn_output.weight", e, c.qDim(), true), b.vector(p + "attn_output.bias", e, false),
                    b.vector(p + "ffn_norm.weight", e, true), b.vector(p + "ffn_norm.bias", e, false),
                    b.matrix(p + "ffn_gate.weight", ff, e, gated),
                    b.matrix(p + "ffn_up.weight", ff, e, true), b.vector(p + "ffn_up.bias", ff, false),
                    b.matrix(p + "ffn_down.weight", e, ff, true), b.vector(p + "ffn_down.bias", e, false));
        };
        int tasks = layers.length + 1;
        int threads = Math.min(tasks, Runtime.getRuntime().availableProcessors());
        if (threads <= 1) {
            for (int i = 0; i < tasks; i++) { // as below: the embeddings, then the layers in order
                bind.accept(i == 0 ? layers.length : i - 1);
            }
        } else {
            AtomicInteger next = new AtomicInteger();
            try (ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "flint-load");
                t.setDaemon(true);
                return t;
            })) {
                List<Future<?>> done = new ArrayList<>();
                for (int k = 0; k < threads; k++) {
                    done.add(pool.submit(() -> {
                        // the embeddings first (the largest task), then the layers in order
                        for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                            bind.accept(i == 0 ? layers.length : i - 1);
                        }
                    }));
                }
                for (Future<?> d : done) {
                    try {
                        d.get();
                    } catch (ExecutionException ex) {
                        next.set(tasks); // the other binders stop after their current task
                        if (ex.getCause() instanceof RuntimeException re) {
                            throw re;
                        }
                        throw new IllegalStateException(ex.getCause());
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                        throw new ModelLoadException("interrupted while loading " + f.path());
                    }
                }
            }
        }
        float[] outNorm = b.vector("output_norm.weight", e, true);
        float[] outNormBias = b.vector("output_norm.bias", e, false);
        WeightMatrix output = b.matrix("output.weight", nVocab, e, false);
        if (output == null) {
            output = embd[0]; // tied embeddings
        }
        float[] ropeFreqs = b.vector("rope_freqs.weight", c.ropeDim() / 2, false);
        return new ModelWeights(embd[0], layers, outNorm, outNormBias, output, ropeFreqs);
    }

    /** Finds tensors by name and checks their shapes. */
    private record Binder(GgufFile f) {
        GgufTensor find(String name, boolean required) {
            GgufTensor t = f.tensor(name);
            if (t == null && required) {
                throw new ModelLoadException(f.path() + ": required tensor '" + name + "' is missing");
            }
            return t;
        }

        WeightMatrix matrix(String name, int rows, int cols, boolean required) {
            return matrix(name, rows, cols, required, true);
        }

        /**
         * The named matrix; {@code products}: whether products are taken with it (else it is only looked up). A
         * matrix repacked for products gives back its mapped pages, which it read once (see
         * {@link GgufFile#releasePages}).
         */
        WeightMatrix matrix(String name, int rows, int cols, boolean required, boolean products) {
            GgufTensor t = find(name, required);
            if (t == null) {
                return null;
            }
            if (t.shape().length != 2 || t.shape()[0] != cols || t.shape()[1] != rows) {
                throw new ModelLoadException(f.path() + ": tensor '" + name + "' has shape "
                        + Arrays.toString(t.shape()) + ", expected [" + cols + ", " + rows + "]");
            }
            WeightMatrix m = WeightMatrix.of(t.type(), t.data(), rows, cols, products);
            if (m.repacked()) {
                f.releasePages(t.data());
            }
            return m;
        }

        float[] vector(String name, int n, boolean required) {
            GgufTensor t = find(name, required);
            if (t == null) {
                return null;
            }
            if (t.elementCount() != n) {
                throw new ModelLoadException(f.path() + ": tensor '" + name + "' has shape "
                        + Arrays.toString(t.shape()) + ", expected " + n + " elements");
            }
            float[] v = new float[n];
            WeightMatrix.of(t.type(), t.data(), 1, n).dequantizeRow(0, v, 0);
            return v;
        }
    }
}
