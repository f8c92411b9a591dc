package dev.flint.cli;

import dev.flint.engine.Fixtures;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ServeCommandTest {
    @Test
    void refusesANonLoopbackHostWithoutAnApiKeyBeforeLoadingTheModel() {
        CliRunner r = CliRunner.run("serve", "-m", "does-not-matter.gguf", "--host", "0.0.0.0");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--api-key"), r.err());
        assertTrue(r.err().contains("--insecure"), r.err());
    }

    @Test
    void serveRefusesADraftModelWithAnotherVocabulary() {
        CliRunner r = CliRunner.run("serve", "-m", Fixtures.model("tiny-llama-spm-Q8_0.gguf").toString(),
                "--draft", Fixtures.model("tiny-qwen2-Q4_K_M.gguf").toString(), "--port", "0", "-t", "1");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("cannot draft for the target"), r.err());
    }

    @Test
    void draftMinAboveDraftMaxIsRefusedBeforeLoadingTheModel() {
        CliRunner r = CliRunner.run("serve", "-m", "does-not-matter.gguf", "--draft", "also-not.gguf",
                "--draft-max", "4", "--draft-min", "5");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("draft min 5"), r.err());
    }

    @Test
    void aDraftContextTooShortForADraftIsRefusedBeforeLoadingTheModel() {
        CliRunner r = CliRunner.run("serve", "-m", "does-not-matter.gguf", "--draft", "also-not.gguf",
                "--draft-max", "8", "-cd", "9");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("draft context 9 (0, or at least draft max + 2)"), r.err());
    }

    @Test
    void serveAndBenchServerAreListedInHelp() {
        CliRunner r = CliRunner.run("--help");
        assertTrue(r.out().contains("serve"), r.out());
        assertTrue(r.out().contains("bench-server"), r.out());
    }
}
