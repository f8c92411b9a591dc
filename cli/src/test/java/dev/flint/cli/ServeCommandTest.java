package dev.flint.cli;

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
    void serveAndBenchServerAreListedInHelp() {
        CliRunner r = CliRunner.run("--help");
        assertTrue(r.out().contains("serve"), r.out());
        assertTrue(r.out().contains("bench-server"), r.out());
    }
}
