package dev.flint.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flint.engine.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void generatePrintsLlamaCppsGreedyStory() {
        CliRunner r = CliRunner.run("generate", "-m", Fixtures.model("stories260K-F32.gguf").toString(),
                "-p", "Once upon a time", "-n", "64", "--temp", "0", "-t", "2");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().startsWith("Once upon a time, there was a little girl named Lily. She loved to play "
                + "outside in the park."), r.out());
    }

    @Test
    void generateJsonListsTokenIdsAndText() throws Exception {
        CliRunner r = CliRunner.run("generate", "-m", Fixtures.model("stories260K-F32.gguf").toString(),
                "-p", "Once upon a time", "-n", "8", "--temp", "0", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = JSON.readTree(r.out());
        JsonNode ref = JSON.readTree(Fixtures.reference("stories260K-F32.story.json").toFile());
        for (int i = 0; i < 8; i++) {
            assertEquals(ref.get("greedy").get(i).asInt(), j.get("tokens").get(i).asInt());
        }
        assertEquals("length", j.get("finish_reason").asText());
        assertTrue(j.get("text").asText().startsWith(", there was"), j.get("text").asText());
    }

    @Test
    void generateWithADraftModelGivesTheSameTokensAndCountsItsDrafts() throws Exception {
        String model = Fixtures.model("stories260K-F32.gguf").toString();
        CliRunner plain = CliRunner.run("generate", "-m", model, "-p", "Once upon a time", "-n", "32", "--temp", "0",
                "--json");
        CliRunner drafted = CliRunner.run("generate", "-m", model, "--draft", model, "--draft-p-min", "0",
                "-p", "Once upon a time", "-n", "32", "--temp", "0", "--json");
        assertEquals(0, plain.exitCode(), plain.err());
        assertEquals(0, drafted.exitCode(), drafted.err());
        JsonNode a = JSON.readTree(plain.out());
        JsonNode b = JSON.readTree(drafted.out());
        assertEquals(a.get("tokens"), b.get("tokens"));
        assertEquals(a.get("text"), b.get("text"));
        assertTrue(b.get("drafted_tokens").asInt() > 0, drafted.out());
        assertTrue(b.get("accepted_tokens").asInt() <= b.get("drafted_tokens").asInt(), drafted.out());
        // a draft cache of 32 cells for 37 tokens: the draft model follows a window, the output stays the same
        CliRunner windowed = CliRunner.run("generate", "-m", model, "--draft", model, "--draft-p-min", "0",
                "-cd", "32", "-p", "Once upon a time", "-n", "32", "--temp", "0", "--json");
        assertEquals(0, windowed.exitCode(), windowed.err());
        JsonNode w = JSON.readTree(windowed.out());
        assertEquals(a.get("tokens"), w.get("tokens"));
        assertTrue(w.get("drafted_tokens").asInt() > 0, windowed.out());
        CliRunner refused = CliRunner.run("generate", "-m", model, "--draft",
                Fixtures.model("tiny-qwen2-Q4_K_M.gguf").toString(), "-p", "Once", "-n", "4");
        assertTrue(refused.exitCode() != 0);
        assertTrue(refused.err().contains("vocabulary"), refused.err());
    }

    @Test
    void evalReproducesReferencePromptTokensAndLogits(@TempDir Path tmp) throws Exception {
        Path logits = tmp.resolve("last.f32");
        CliRunner r = CliRunner.run("eval", "-m", Fixtures.model("tiny-qwen2-F16.gguf").toString(),
                "-f", Fixtures.dir().resolve("prompts/code-python.txt").toString(), "--top", "5",
                "--logits-out", logits.toString(), "-t", "2");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = JSON.readTree(r.out());
        JsonNode ref = JSON.readTree(Fixtures.reference("tiny-qwen2-F16.code-python.json").toFile());
        assertEquals(ref.get("prompt_tokens"), j.get("prompt_tokens"));
        assertEquals(ref.get("prompt_tokens").size(), j.get("prompt_top5").size());
        float[] mine = floats(Files.readAllBytes(logits));
        float[] theirs = floats(Files.readAllBytes(Fixtures.reference("tiny-qwen2-F16.code-python.logits.f32")));
        assertEquals(theirs.length, mine.length);
        double dot = 0, a = 0, b = 0;
        for (int i = 0; i < mine.length; i++) {
            dot += mine[i] * theirs[i];
            a += mine[i] * mine[i];
            b += theirs[i] * theirs[i];
        }
        assertTrue(dot / Math.sqrt(a * b) > 0.9999);
    }

    @Test
    void benchAtADepthNamesItsFigures() throws Exception {
        // -n 0: generation would also measure the machine's read bandwidth over a 1 GiB buffer
        CliRunner r = CliRunner.run("bench", "-m", Fixtures.model("stories260K-F32.gguf").toString(),
                "-p", "8", "-n", "0", "-d", "40", "-r", "1", "-t", "1", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertTrue(j.get("pp8_d40_tok_s").asDouble() > 0, j.toString());
        assertTrue(j.get("pp8_tok_s") == null, j.toString());
        CliRunner negative = CliRunner.run("bench", "-m", Fixtures.model("stories260K-F32.gguf").toString(),
                "-d", "-1");
        assertEquals(2, negative.exitCode());
        assertTrue(negative.err().contains("--n-depth"), negative.err());
    }

    @Test
    void benchSpecComparesSpeculativeAndPlainGreedyDecoding() throws Exception {
        String text = "Lily and Tom went to the park. They played on the swings. Lily and Tom went to the park. They";
        CliRunner r = CliRunner.run("bench", "spec", "-m", Fixtures.model("stories260K-F32.gguf").toString(),
                "-p", text, "-n", "24", "-r", "1", "-t", "1", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertTrue(j.get("same_output").asBoolean());
        assertEquals(24, j.get("generated_tokens").asInt());
        assertTrue(j.get("drafted").asInt() > 0, "the repeated sentence gives the drafter something: " + j);
        assertTrue(j.get("accepted").asInt() <= j.get("drafted").asInt());
        assertTrue(j.get("plain_tok_s").asDouble() > 0 && j.get("spec_tok_s").asDouble() > 0);
        assertTrue(j.get("step_ms_9_tokens").asDouble() > 0);
    }

    @Test
    void benchSpecWithADraftModelComparesItsDraftsAgainstPlainGreedyDecoding() throws Exception {
        String model = Fixtures.model("stories260K-F32.gguf").toString();
        CliRunner r = CliRunner.run("bench", "spec", "-m", model, "--draft", model, "--draft-p-min", "0",
                "-p", "Once upon a time", "-n", "24", "-r", "1", "-t", "1", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals("model", j.get("drafter").asText());
        assertEquals("stories260K-F32.gguf", j.get("draft_model").asText());
        assertTrue(j.get("same_output").asBoolean());
        assertEquals(24, j.get("generated_tokens").asInt());
        assertTrue(j.get("drafted").asInt() > 0);
        assertTrue(j.get("acceptance").asDouble() > 0.9, "a model drafting for itself: " + j);
        assertTrue(j.get("target_steps_per_token").asDouble() < 0.5, j.toString());
        assertTrue(j.get("draft_step_ms_1_token").asDouble() > 0);
    }

    @Test
    void evalAcceptsTokenIds() throws Exception {
        CliRunner r = CliRunner.run("eval", "-m", Fixtures.model("stories260K-F32.gguf").toString(),
                "--tokens", "1,403,407,261,378", "--top", "3");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(5, j.get("prompt_top3").size());
        assertEquals(403, j.get("prompt_top3").get(0).get(0).get(0).asInt());
    }

    @Test
    void tokenizeHonoursNoBosAndNoSpecial() throws Exception {
        String model = Fixtures.model("tiny-qwen2-F16.gguf").toString();
        JsonNode withAll = JSON.readTree(CliRunner.run("tokenize", "-m", model, "-p", "<｜fim▁begin｜>x").out());
        JsonNode plain = JSON.readTree(CliRunner.run("tokenize", "-m", model, "-p", "<｜fim▁begin｜>x",
                "--no-bos", "--no-special").out());
        assertEquals(32013, withAll.get("tokens").get(0).asInt()); // BOS
        assertEquals(32016, withAll.get("tokens").get(1).asInt()); // the FIM token, parsed as special
        assertTrue(plain.get("tokens").size() > 2, plain.toString());
        assertTrue(plain.get("tokens").get(0).asInt() != 32013);
    }

    @Test
    void infoDescribesArchitectureTokenizerAndFimTokens() throws Exception {
        CliRunner r = CliRunner.run("info", "-m", Fixtures.model("tiny-qwen2-Q4_K_M.gguf").toString(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals("qwen2", j.get("architecture").asText());
        assertEquals(256, j.get("hyperparameters").get("embedding_length").asInt());
        assertTrue(j.get("tensor_types").has("Q4_K"));
        assertEquals(32016, j.get("tokenizer").get("fim").get("prefix").get("id").asInt());
    }

    @Test
    void missingModelFileGivesOneClearLine() {
        CliRunner r = CliRunner.run("info", "-m", "/nonexistent/model.gguf");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("file not found: /nonexistent/model.gguf"), r.err());
    }

    @Test
    void notAGgufFileGivesAClearError(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("x.gguf");
        Files.writeString(f, "this is certainly not a model file, just some text long enough");
        CliRunner r = CliRunner.run("generate", "-m", f.toString(), "-p", "hi");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("is not a GGUF file"), r.err());
    }

    private static float[] floats(byte[] b) {
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
