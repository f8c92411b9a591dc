package dev.flint.cli.synth;

import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.gguf.GgufWriter;
import dev.flint.engine.tensor.GgmlType;
import dev.flint.engine.tensor.RandomWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Writes a random-weight GGUF with a real model's exact shapes, metadata and a valid tokenizer (copied from a
 * vocabulary file and padded to the model's vocabulary size with unused tokens, as llama.cpp's converter pads).
 * Both Flint and llama.cpp load the result, so the same file measures both.
 */
public final class SyntheticModel {
    private static final int TOKEN_TYPE_UNUSED = 5;

    private SyntheticModel() {}

    public static void write(ModelShape s, QuantPlan plan, Path vocabFile, Path out, long seed) throws IOException {
        GgufWriter w = new GgufWriter();
        String a = s.arch() + ".";
        w.putString("general.architecture", s.arch());
        w.putString("general.name", s.name() + " (random weights, Flint synth)");
        w.putU32("general.file_type", plan.llamaFileTypeId());
        w.putU32(a + "context_length", s.ctx());
        w.putU32(a + "embedding_length", s.embd());
        w.putU32(a + "block_count", s.layers());
        w.putU32(a + "feed_forward_length", s.ff());
        w.putU32(a + "attention.head_count", s.heads());
        w.putU32(a + "attention.head_count_kv", s.headsKv());
        w.putF32(a + "rope.freq_base", s.ropeBase());
        if (s.arch().equals("starcoder2")) {
            w.putF32(a + "attention.layer_norm_epsilon", s.normEps());
        } else {
            w.putF32(a + "attention.layer_norm_rms_epsilon", s.normEps());
        }
        if (s.arch().equals("llama")) {
            w.putU32(a + "rope.dimension_count", s.headDim());
            w.putU32(a + "vocab_size", s.vocab());
        }
        if (s.ropeLinearFactor() > 0) {
            w.putString(a + "rope.scaling.type", "linear");
            w.putF32(a + "rope.scaling.factor", s.ropeLinearFactor());
        }
        copyTokenizer(vocabFile, s.vocab(), w);

        long seedBase = seed;
        int e = s.embd();
        int kv = s.kvDim();
        boolean embdIsOutput = s.tiedOutput();
        GgmlType embdType = plan.typeFor("token_embd", 0, s.layers(), e, embdIsOutput);
        matrix(w, "token_embd.weight", embdType, e, s.vocab(), seedBase++);
        if (s.llama3RopeFreqs()) {
            vector(w, "rope_freqs.weight", s.headDim() / 2, 1f);
        }
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            vector(w, p + "attn_norm.weight", e, 1f);
            if (s.allBiases()) {
                vector(w, p + "attn_norm.bias", e, 0f);
            }
            matrix(w, p + "attn_q.weight", plan.typeFor("attn_q", l, s.layers(), e, false), e, e, seedBase++);
            matrix(w, p + "attn_k.weight", plan.typeFor("attn_k", l, s.layers(), e, false), e, kv, seedBase++);
            matrix(w, p + "attn_v.weight", plan.typeFor("attn_v", l, s.layers(), e, false), e, kv, seedBase++);
            if (s.qkvBias()) {
                vector(w, p + "attn_q.bias", e, 0f);
                vector(w, p + "attn_k.bias", kv, 0f);
                vector(w, p + "attn_v.bias", kv, 0f);
            }
            matrix(w, p + "attn_output.weight", plan.typeFor("attn_output", l, s.layers(), e, false), e, e, seedBase++);
            if (s.allBiases()) {
                vector(w, p + "attn_output.bias", e, 0f);
            }
            vector(w, p + "ffn_norm.weight", e, 1f);
            if (s.allBiases()) {
                vector(w, p + "ffn_norm.bias", e, 0f);
            }
            if (!s.arch().equals("starcoder2")) {
                matrix(w, p + "ffn_gate.weight", plan.typeFor("ffn_gate", l, s.layers(), e, false), e, s.ff(), seedBase++);
            }
            matrix(w, p + "ffn_up.weight", plan.typeFor("ffn_up", l, s.layers(), e, false), e, s.ff(), seedBase++);
            if (s.allBiases()) {
                vector(w, p + "ffn_up.bias", s.ff(), 0f);
            }
            matrix(w, p + "ffn_down.weight", plan.typeFor("ffn_down", l, s.layers(), s.ff(), false), s.ff(), e, seedBase++);
            if (s.allBiases()) {
                vector(w, p + "ffn_down.bias", e, 0f);
            }
        }
        vector(w, "output_norm.weight", e, 1f);
        if (s.allBiases()) {
            vector(w, "output_norm.bias", e, 0f);
        }
        if (!s.tiedOutput()) {
            matrix(w, "output.weight", plan.typeFor("output", 0, s.layers(), e, true), e, s.vocab(), seedBase);
        }
        w.write(out);
    }

    private static void matrix(GgufWriter w, String name, GgmlType type, long cols, long rows, long seed) {
        w.addTensor(name, type, new long[] {cols, rows}, RandomWeights.of(type, cols * rows, seed));
    }

    /** Norm weights and biases: constant F32 vectors, as a freshly initialised model would have. */
    private static void vector(GgufWriter w, String name, int n, float value) {
        byte[] b = new byte[n * 4];
        int bits = Float.floatToRawIntBits(value);
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 4; k++) {
                b[i * 4 + k] = (byte) (bits >>> (8 * k));
            }
        }
        w.addTensor(name, GgmlType.F32, new long[] {n}, b);
    }

    /** Copies tokenizer.* metadata from a vocabulary file, padding the token lists to {@code vocab} entries. */
    private static void copyTokenizer(Path vocabFile, int vocab, GgufWriter w) throws IOException {
        try (GgufFile v = GgufFile.open(vocabFile)) {
            String[] tokens = v.getStringArray("tokenizer.ggml.tokens");
            if (tokens == null) {
                throw new IllegalArgumentException(vocabFile + " has no tokenizer.ggml.tokens");
            }
            if (tokens.length > vocab) {
                throw new IllegalArgumentException(vocabFile + " has " + tokens.length + " tokens, more than the "
                        + vocab + " of the model shape");
            }
            int n0 = tokens.length;
            String[] padded = Arrays.copyOf(tokens, vocab);
            for (int i = n0; i < vocab; i++) {
                padded[i] = "[PAD" + i + "]";
            }
            w.copyMetadata(v, k -> !k.startsWith("tokenizer.") || k.equals("tokenizer.ggml.tokens")
                    || k.equals("tokenizer.ggml.scores") || k.equals("tokenizer.ggml.token_type"));
            w.putStringArray("tokenizer.ggml.tokens", padded);
            float[] scores = v.getFloatArray("tokenizer.ggml.scores");
            if (scores != null) {
                w.putF32Array("tokenizer.ggml.scores", Arrays.copyOf(scores, vocab));
            }
            int[] types = v.getIntArray("tokenizer.ggml.token_type");
            if (types != null) {
                int[] t = Arrays.copyOf(types, vocab);
                Arrays.fill(t, n0, vocab, TOKEN_TYPE_UNUSED);
                w.putI32Array("tokenizer.ggml.token_type", t);
            }
        }
    }
}
