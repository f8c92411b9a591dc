package dev.flint.engine.model;

import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.gguf.GgufFormatException;

/**
 * Hyper-parameters of a model, all read from GGUF metadata ({@code ARCH.*} keys), never assumed per model.
 *
 * @param ropeFreqScale   1 / rope scaling factor (linear or YaRN), 1 when unscaled
 * @param ropeExtFactor   YaRN extrapolation mix (1 for YaRN, 0 otherwise, as llama.cpp defaults it)
 * @param ropeAttnFactor  magnitude scale applied to cos/sin
 * @param ropeOrigCtx     the context length the RoPE scaling was trained for (YaRN)
 */
public record ModelConfig(
        Architecture architecture,
        String name,
        int contextLength,
        int embeddingLength,
        int blockCount,
        int feedForwardLength,
        int headCount,
        int headCountKv,
        int headDim,
        int ropeDim,
        float ropeFreqBase,
        float ropeFreqScale,
        float ropeExtFactor,
        float ropeAttnFactor,
        int ropeOrigCtx,
        float normEps) {

    public int kvDim() {
        return headCountKv * headDim;
    }

    public int qDim() {
        return headCount * headDim;
    }

    public static ModelConfig from(GgufFile f) {
        String archName = f.requireString("general.architecture");
        Architecture arch = Architecture.fromGguf(archName);
        String p = archName + ".";
        int nEmbd = positive(f, p + "embedding_length");
        int nLayer = positive(f, p + "block_count");
        int nHead = positive(f, p + "attention.head_count");
        int nHeadKv = f.getInt(p + "attention.head_count_kv", nHead);
        if (nHeadKv <= 0 || nHead % nHeadKv != 0) {
            throw new GgufFormatException(f.path() + ": attention.head_count " + nHead
                    + " is not a multiple of head_count_kv " + nHeadKv);
        }
        int headDim = f.getInt(p + "attention.key_length", nEmbd / nHead);
        int valueDim = f.getInt(p + "attention.value_length", headDim);
        if (valueDim != headDim) {
            throw new GgufFormatException(f.path() + ": different key and value head sizes (" + headDim + " and "
                    + valueDim + ") are not supported");
        }
        int ropeDim = f.getInt(p + "rope.dimension_count", headDim);
        if (ropeDim <= 0 || ropeDim > headDim || ropeDim % 2 != 0) {
            throw new GgufFormatException(f.path() + ": rope.dimension_count " + ropeDim + " is invalid for head size "
                    + headDim);
        }
        int nCtxTrain = positive(f, p + "context_length");
        float base = f.getFloat(p + "rope.freq_base", 10000f);
        String scalingType = f.getString(p + "rope.scaling.type", "linear");
        float factor = f.getFloat(p + "rope.scaling.factor", f.getFloat(p + "rope.scale_linear", 0f));
        float freqScale = factor == 0f ? 1f : 1f / factor;
        if ("none".equals(scalingType)) {
            freqScale = 1f;
        } else if (!"linear".equals(scalingType) && !"yarn".equals(scalingType)) {
            throw new GgufFormatException(f.path() + ": rope scaling type '" + scalingType
                    + "' is not supported (none, linear, yarn are)");
        }
        float extFactor = "yarn".equals(scalingType) ? 1f : 0f;
        float attnFactor = f.getFloat(p + "rope.scaling.attn_factor", 1f);
        int origCtx = f.getInt(p + "rope.scaling.original_context_length", nCtxTrain);
        float eps = arch.norm == Architecture.NormType.RMS
                ? f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f)
                : f.getFloat(p + "attention.layer_norm_epsilon", 1e-5f);
        int nFf = positive(f, p + "feed_forward_length");
        return new ModelConfig(arch, f.getString("general.name", ""), nCtxTrain, nEmbd, nLayer, nFf, nHead, nHeadKv,
                headDim, ropeDim, base, freqScale, extFactor, attnFactor, origCtx, eps);
    }

    private static int positive(GgufFile f, String key) {
        Object v = f.metadata().get(key);
        if (v instanceof int[] || v instanceof long[]) {
            throw new GgufFormatException(f.path() + ": per-layer values for '" + key + "' are not supported");
        }
        int n = f.requireInt(key);
        if (n <= 0 || n > 1 << 24) {
            throw new GgufFormatException(f.path() + ": metadata '" + key + "' = " + n + " is out of range");
        }
        return n;
    }
}
