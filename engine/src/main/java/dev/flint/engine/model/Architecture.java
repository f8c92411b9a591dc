package dev.flint.engine.model;

import dev.flint.engine.ModelLoadException;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The transformer families Flint runs. One block (see {@link Transformer}) serves all of them; a family only states
 * which norm, feed-forward and RoPE layout it uses. Adding a family (qwen3's per-head Q/K norms, gemma's scaled
 * embeddings and +1 norm weights) means a new constant here plus the optional tensors it names.
 */
public enum Architecture {
    LLAMA("llama", NormType.RMS, FeedForward.SWIGLU, RopeStyle.NORMAL),
    QWEN2("qwen2", NormType.RMS, FeedForward.SWIGLU, RopeStyle.NEOX),
    STARCODER2("starcoder2", NormType.LAYER, FeedForward.GELU, RopeStyle.NEOX);

    /** RMSNorm (scale only) or LayerNorm (mean removed, optional bias). */
    public enum NormType { RMS, LAYER }

    /** SwiGLU: down(silu(gate(x)) * up(x)); GELU: down(gelu(up(x))). */
    public enum FeedForward { SWIGLU, GELU }

    /** NORMAL rotates adjacent pairs (x0, x1); NEOX rotates (x[i], x[i + d/2]). */
    public enum RopeStyle { NORMAL, NEOX }

    public final String ggufName;
    public final NormType norm;
    public final FeedForward ffn;
    public final RopeStyle rope;

    Architecture(String ggufName, NormType norm, FeedForward ffn, RopeStyle rope) {
        this.ggufName = ggufName;
        this.norm = norm;
        this.ffn = ffn;
        this.rope = rope;
    }

    public static Architecture fromGguf(String name) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        throw new ModelLoadException("model architecture '" + name + "' is not supported; supported: "
                + Arrays.stream(values()).map(a -> a.ggufName).collect(Collectors.joining(", ")));
    }
}
