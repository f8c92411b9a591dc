package dev.flint.cli.synth;

import dev.flint.engine.tensor.GgmlType;

/**
 * Which tensor type each weight gets for a file type name, following llama.cpp's quantizer: "pure" types put every
 * matrix in one type (the output/tied embedding in Q6_K for 4-5-bit types), Q4_K_M and Q5_K_M give attn_v and
 * ffn_down more bits in some layers, and K-quant matrices whose rows are not a multiple of 256 fall back to
 * Q5_0 / Q5_1 / Q8_0 exactly as llama.cpp does (which is why a 0.5B Qwen "Q4_K_M" is mostly Q5_0).
 */
public final class QuantPlan {
    private final String fileType;
    private final GgmlType base;

    public QuantPlan(String fileType) {
        this.fileType = fileType.toUpperCase();
        this.base = switch (this.fileType) {
            case "Q4_K_M", "Q4_K_S" -> GgmlType.Q4_K;
            case "Q5_K_M", "Q5_K_S" -> GgmlType.Q5_K;
            default -> {
                GgmlType t;
                try {
                    t = GgmlType.valueOf(this.fileType);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("unknown file type '" + fileType + "'; use one of F32, F16, "
                            + "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q6_K, Q4_K_M, Q5_K_M");
                }
                if (!t.supported) {
                    throw new IllegalArgumentException("file type " + t + " is not supported by Flint");
                }
                yield t;
            }
        };
    }

    public String fileType() {
        return fileType;
    }

    /** llama.cpp's general.file_type id for this plan (informational). */
    public int llamaFileTypeId() {
        return switch (fileType) {
            case "F32" -> 0;
            case "F16" -> 1;
            case "Q4_0" -> 2;
            case "Q4_1" -> 3;
            case "Q8_0" -> 7;
            case "Q5_0" -> 8;
            case "Q5_1" -> 9;
            case "Q4_K_S" -> 14;
            case "Q4_K_M" -> 15;
            case "Q5_K_S" -> 16;
            case "Q5_K_M" -> 17;
            case "Q6_K" -> 18;
            case "BF16" -> 32;
            default -> 0;
        };
    }

    private static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /**
     * The type of a 2-D weight. {@code role} is the tensor name without the {@code blk.N.} prefix; {@code output} is
     * true for output.weight or a tied token_embd.
     */
    public GgmlType typeFor(String role, int layer, int layers, long cols, boolean output) {
        GgmlType t = base;
        if (base == GgmlType.F32 || base == GgmlType.F16 || base == GgmlType.BF16) {
            return base;
        }
        boolean mixed = fileType.endsWith("_M");
        if (output) {
            if (cols % t.blockSize != 0) {
                t = GgmlType.Q8_0;
            } else if (t != GgmlType.Q8_0) {
                t = GgmlType.Q6_K;
            }
        } else if (mixed && (role.startsWith("attn_v") || role.startsWith("ffn_down")) && useMoreBits(layer, layers)) {
            t = GgmlType.Q6_K;
        }
        if (cols % t.blockSize != 0) {
            t = switch (t) {
                case Q4_K -> GgmlType.Q5_0;
                case Q5_K -> GgmlType.Q5_1;
                case Q6_K -> GgmlType.Q8_0;
                default -> t;
            };
            if (cols % t.blockSize != 0) {
                t = GgmlType.F16;
            }
        }
        return t;
    }
}
