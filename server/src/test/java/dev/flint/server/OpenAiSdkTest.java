package dev.flint.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.server.http.Json;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A client nobody here wrote: the official {@code openai} npm package against /v1/completions and
 * /v1/chat/completions, streaming and not (server/src/test/node; {@code npm ci} there is done by .ci/run).
 */
class OpenAiSdkTest {
    static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();

    static boolean nodeInstalled() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void officialOpenAiSdkTalksToFlint() throws Exception {
        assumeTrue(nodeInstalled(), "node is not installed: skipping the openai npm SDK check");
        assertTrue(Files.isDirectory(NODE_DIR.resolve("node_modules/openai")),
                "run `npm ci` in server/src/test/node first (.ci/run does)");
        try (var ts = new TestServer("stories260K-F32.gguf", 2, 256, 8, null)) {
            Process p = new ProcessBuilder("node", "openai-sdk-check.mjs", ts.base() + "/v1")
                    .directory(NODE_DIR.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            JsonNode r = Json.MAPPER.readTree(out.lines().reduce((a, b) -> b).orElse("{}"));
            assertEquals("stories260K-F32", r.get("model").asText());
            assertFalse(r.at("/completion/text").asText().isEmpty());
            assertEquals("length", r.at("/completion/finish").asText());
            assertEquals(8, r.at("/completion/usage/completion_tokens").asInt());
            assertEquals(r.at("/completion/text").asText(), r.get("completionStreamed").asText());
            assertEquals("assistant", r.at("/chat/role").asText());
            assertEquals(r.at("/chat/text").asText(), r.get("chatStreamed").asText());
            assertEquals(6, r.at("/chatStreamUsage/completion_tokens").asInt());
            assertEquals(400, r.at("/error/status").asInt());
            assertTrue(r.at("/error/message").asText().contains("max_tokens"), r.toString());
        }
    }
}
