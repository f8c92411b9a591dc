package dev.flint.cli.models;

import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.gguf.GgufTensor;
import dev.flint.engine.tensor.GgmlType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/** What {@code flint models} shows of a GGUF file: its architecture and quantization, read from its header. */
public record GgufSummary(String architecture, String quant) {
    public static GgufSummary read(Path path) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            return new GgufSummary(f.getString("general.architecture", "unknown"), quant(f));
        }
    }

    /**
     * The file type llama.cpp's quantizer recorded ({@code general.file_type}, a {@code llama_ftype}), else the type
     * that holds most of the matrix weights (many converted files, and the fixtures, do not record one).
     */
    static String quant(GgufFile f) {
        if (f.has("general.file_type")) {
            String name = fileTypeName(f.getInt("general.file_type", -1) & ~1024); // 1024: "guessed" flag
            if (name != null) {
                return name;
            }
        }
        Map<GgmlType, Long> elements = new EnumMap<>(GgmlType.class);
        for (GgufTensor t : f.tensors().values()) {
            if (t.shape().length >= 2) {
                elements.merge(t.type(), t.elementCount(), Long::sum);
            }
        }
        return elements.entrySet().stream().max(Map.Entry.comparingByValue()).map(e -> e.getKey().name())
                .orElse("unknown");
    }

    /** llama.h's llama_ftype values (4-6 and 33-35 were removed upstream). */
    static String fileTypeName(int ftype) {
        return switch (ftype) {
            case 0 -> "F32";
            case 1 -> "F16";
            case 2 -> "Q4_0";
            case 3 -> "Q4_1";
            case 7 -> "Q8_0";
            case 8 -> "Q5_0";
            case 9 -> "Q5_1";
            case 10 -> "Q2_K";
            case 11 -> "Q3_K_S";
            case 12 -> "Q3_K_M";
            case 13 -> "Q3_K_L";
            case 14 -> "Q4_K_S";
            case 15 -> "Q4_K_M";
            case 16 -> "Q5_K_S";
            case 17 -> "Q5_K_M";
            case 18 -> "Q6_K";
            case 19 -> "IQ2_XXS";
            case 20 -> "IQ2_XS";
            case 21 -> "Q2_K_S";
            case 22 -> "IQ3_XS";
            case 23 -> "IQ3_XXS";
            case 24 -> "IQ1_S";
            case 25 -> "IQ4_NL";
            case 26 -> "IQ3_S";
            case 27 -> "IQ3_M";
            case 28 -> "IQ2_S";
            case 29 -> "IQ2_M";
            case 30 -> "IQ4_XS";
            case 31 -> "IQ1_M";
            case 32 -> "BF16";
            case 36 -> "TQ1_0";
            case 37 -> "TQ2_0";
            case 38 -> "MXFP4_MOE";
            default -> null;
        };
    }
}
