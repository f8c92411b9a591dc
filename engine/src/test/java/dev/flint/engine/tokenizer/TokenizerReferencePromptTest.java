package dev.flint.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The prompts the model references were computed from tokenize exactly as llama.cpp did: special-token text parsed
 * (FIM markers become their tokens) and BOS added as each model's metadata says.
 */
class TokenizerReferencePromptTest {
    /** reference/MODEL.PROMPT.json was computed from prompts/FILE.txt. */
    static String promptFile(String model, String prompt) {
        if (!prompt.equals("fim")) {
            return prompt + ".txt";
        }
        return model.startsWith("tiny-starcoder2") ? "fim-starcoder.txt" : "fim-deepseek.txt";
    }

    static List<Path> references() throws IOException {
        try (Stream<Path> s = Files.list(TokenizerFixtures.root().resolve("reference"))) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyReferencePromptTokenizesAsLlamaCppWithSpecialsAndBos() throws IOException {
        ObjectMapper json = new ObjectMapper();
        Path root = TokenizerFixtures.root();
        return references().stream().map(ref -> DynamicTest.dynamicTest(ref.getFileName().toString(), () -> {
            String name = ref.getFileName().toString().replaceFirst("\\.json$", "");
            String model = name.substring(0, name.lastIndexOf('.'));
            String prompt = name.substring(name.lastIndexOf('.') + 1);
            JsonNode node = read(json, ref);
            int[] expected = new int[node.get("prompt_tokens").size()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = node.get("prompt_tokens").get(i).asInt();
            }
            Tokenizer tok = TokenizerFixtures.tokenizer(root.resolve("models/" + model + ".gguf"));
            assertEquals(node.get("add_bos").asBoolean(), tok.vocabulary().addBos(), "add_bos");
            String text = TokenizerFixtures.read(root.resolve("prompts/" + promptFile(model, prompt)));
            int[] actual = tok.encode(text, true, true);
            assertArrayEquals(expected, actual, () -> "expected " + Arrays.toString(expected)
                    + "\nactual   " + Arrays.toString(actual));
        }));
    }

    private static JsonNode read(ObjectMapper json, Path p) {
        try {
            return json.readTree(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
