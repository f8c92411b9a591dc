package dev.flint.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flint.cli.hub.FakeHub;
import dev.flint.engine.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code flint pull} through a fake hub on loopback, then {@code flint models} reading what it pulled. */
class PullAndModelsCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REF = "hf://ggml-org/stories260K-GGUF/stories260K-F32.gguf";

    @TempDir
    Path home;

    @Test
    void pullsAFixtureAndModelsListsItsArchitectureAndQuant() throws Exception {
        Path fixture = Fixtures.model("stories260K-F32.gguf");
        try (FakeHub hub = new FakeHub()) {
            hub.host("ggml-org/stories260K-GGUF", "stories260K-F32.gguf", Files.readAllBytes(fixture));
            CliRunner pull = CliRunner.run("pull", REF, "--cache-dir", home.toString(), "--endpoint", hub.endpoint());
            assertEquals(0, pull.exitCode(), pull.err());
            Path cached = home.resolve("models/ggml-org/stories260K-GGUF/stories260K-F32.gguf");
            assertEquals(cached.toString(), pull.out().strip());
            assertTrue(pull.err().contains("100%"), pull.err());
            assertEquals(Files.mismatch(fixture, cached), -1L);

            CliRunner again = CliRunner.run("pull", REF, "--cache-dir", home.toString(), "--endpoint", hub.endpoint());
            assertEquals(0, again.exitCode(), again.err());
            assertTrue(again.err().contains("cached already"), again.err());
            assertEquals(1, hub.cdnGets.get());
        }

        CliRunner models = CliRunner.run("models", "--cache-dir", home.toString(), "--json");
        assertEquals(0, models.exitCode(), models.err());
        JsonNode list = JSON.readTree(models.out());
        assertEquals(1, list.size());
        JsonNode m = list.get(0);
        assertEquals(REF, m.get("name").asText());
        assertEquals("llama", m.get("architecture").asText());
        assertEquals("F32", m.get("quant").asText());
        assertEquals(Files.size(fixture), m.get("size_bytes").asLong());

        CliRunner table = CliRunner.run("models", "--cache-dir", home.toString());
        assertTrue(table.out().startsWith("NAME"), table.out());
        assertTrue(table.out().contains(REF) && table.out().contains("llama") && table.out().contains("F32"),
                table.out());
    }

    @Test
    void pullExplainsAMissingFileAndLeavesNoModel() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            CliRunner r = CliRunner.run("pull", REF, "--cache-dir", home.toString(), "--endpoint", hub.endpoint());
            assertEquals(1, r.exitCode());
            assertTrue(r.err().contains("flint: file 'stories260K-F32.gguf' not found"), r.err());
        }
        assertTrue(JSON.readTree(CliRunner.run("models", "--cache-dir", home.toString(), "--json").out()).isEmpty());
    }

    @Test
    void anEmptyCacheSaysHowToFillIt() {
        CliRunner r = CliRunner.run("models", "--cache-dir", home.toString());
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("flint pull"), r.out());
    }

    @Test
    void unknownShortNamesAreRefusedWithTheKnownOnes() {
        CliRunner pull = CliRunner.run("pull", "qwen-coder", "--cache-dir", home.toString());
        assertEquals(1, pull.exitCode());
        assertTrue(pull.err().contains("qwen2.5-coder-1.5b"), pull.err());
        CliRunner serve = CliRunner.run("serve", "-m", "qwen-coder");
        assertEquals(1, serve.exitCode());
        assertTrue(serve.err().contains("unknown model 'qwen-coder'"), serve.err());
    }
}
