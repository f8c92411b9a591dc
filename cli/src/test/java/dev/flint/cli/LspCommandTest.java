package dev.flint.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code flint lsp}'s refusals, which come before it takes over stdin and stdout. */
class LspCommandTest {
    @Test
    void lspNeedsAServerOrAModel() {
        CliRunner r = CliRunner.run("lsp");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--server") && r.err().contains("--model"), r.err());
    }

    @Test
    void lspRefusesAServerThatIsNotAUrl() {
        CliRunner r = CliRunner.run("lsp", "--server", "127.0.0.1:8012");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("flint: --server: expected http://HOST:PORT"), r.err());
    }

    @Test
    void lspNamesAMissingModel() {
        CliRunner r = CliRunner.run("lsp", "-m", "/no/such/model.gguf");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("file not found: /no/such/model.gguf"), r.err());
    }

    @Test
    void lspApiKeyGoesWithServerOnly() {
        CliRunner r = CliRunner.run("lsp", "-m", "/no/such/model.gguf", "--api-key", "k");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--api-key goes with --server"), r.err());
    }
}
