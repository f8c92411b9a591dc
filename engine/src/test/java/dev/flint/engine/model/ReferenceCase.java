package dev.flint.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flint.engine.Fixtures;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** One llama.cpp reference run from fixtures/reference: MODEL.PROMPT.json plus the last position's full logits. */
record ReferenceCase(String model, String prompt, int nVocab, boolean addBos, int[] promptTokens,
                     int[][][] promptTop, int[] greedy, int[][][] greedyTop, float[][] promptTopLogits,
                     float[][] greedyTopLogits, float[] lastLogits) {

    Path modelPath() {
        return Fixtures.model(model + ".gguf");
    }

    Path promptPath() {
        String file = switch (prompt) {
            case "fim" -> model.contains("starcoder") ? "fim-starcoder.txt" : "fim-deepseek.txt";
            default -> prompt + ".txt";
        };
        return Fixtures.dir().resolve("prompts").resolve(file);
    }

    /** Quantized files get the looser cosine bound of the fixture README. */
    double cosineBound() {
        return model.endsWith("F32") || model.endsWith("F16") || model.endsWith("BF16") || model.endsWith("Q8_0")
                ? 0.9999 : 0.999;
    }

    @Override
    public String toString() {
        return model + "." + prompt;
    }

    static Stream<ReferenceCase> all() throws IOException {
        try (Stream<Path> files = Files.list(Fixtures.dir().resolve("reference"))) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().map(ReferenceCase::load).toList().stream();
        }
    }

    static ReferenceCase load(Path json) {
        try {
            JsonNode n = new ObjectMapper().readTree(json.toFile());
            String base = json.getFileName().toString().replace(".json", "");
            int dot = base.lastIndexOf('.');
            int[][][] pt = new int[n.get("prompt_top10").size()][][];
            float[][] ptl = new float[pt.length][];
            readTop(n.get("prompt_top10"), pt, ptl);
            int[][][] gt = new int[n.get("greedy_top10").size()][][];
            float[][] gtl = new float[gt.length][];
            readTop(n.get("greedy_top10"), gt, gtl);
            byte[] raw = Files.readAllBytes(json.resolveSibling(base + ".logits.f32"));
            float[] last = new float[raw.length / 4];
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(last);
            return new ReferenceCase(base.substring(0, dot), base.substring(dot + 1), n.get("n_vocab").asInt(),
                    n.get("add_bos").asBoolean(), ints(n.get("prompt_tokens")), pt, ints(n.get("greedy")), gt, ptl,
                    gtl, last);
        } catch (IOException e) {
            throw new RuntimeException(json.toString(), e);
        }
    }

    private static void readTop(JsonNode arr, int[][][] ids, float[][] logits) {
        for (int i = 0; i < ids.length; i++) {
            JsonNode row = arr.get(i);
            ids[i] = new int[row.size()][];
            logits[i] = new float[row.size()];
            for (int j = 0; j < row.size(); j++) {
                ids[i][j] = new int[] {row.get(j).get(0).asInt()};
                logits[i][j] = (float) row.get(j).get(1).asDouble();
            }
        }
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    /** Token id ranked {@code rank} at step {@code i} of the prompt. */
    int promptTopId(int i, int rank) {
        return promptTop[i][rank][0];
    }

    int greedyTopId(int i, int rank) {
        return greedyTop[i][rank][0];
    }
}
