package dev.flint.cli;

import dev.flint.engine.Fixtures;
import org.eclipse.lsp4j.CompletionItem;
import org.eclipse.lsp4j.CompletionParams;
import org.eclipse.lsp4j.DidOpenTextDocumentParams;
import org.eclipse.lsp4j.InitializeParams;
import org.eclipse.lsp4j.InitializedParams;
import org.eclipse.lsp4j.MessageActionItem;
import org.eclipse.lsp4j.MessageParams;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.PublishDiagnosticsParams;
import org.eclipse.lsp4j.ShowMessageRequestParams;
import org.eclipse.lsp4j.TextDocumentIdentifier;
import org.eclipse.lsp4j.TextDocumentItem;
import org.eclipse.lsp4j.jsonrpc.Launcher;
import org.eclipse.lsp4j.launch.LSPLauncher;
import org.eclipse.lsp4j.services.LanguageClient;
import org.eclipse.lsp4j.services.LanguageServer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/flint lsp -m MODEL} as an editor starts it: LSP on the process's stdin/stdout (so stdout must carry
 * nothing else, though an in-process Jetty and engine start inside it), a completion from the in-process model, and
 * exit code 0 after shutdown and exit.
 */
class LspLauncherIT {
    @Test
    void binFlintLspWithAModelCompletesOverStdio() throws Exception {
        Path root = Path.of(System.getProperty("flint.root", "..")).toAbsolutePath().normalize();
        Process p = new ProcessBuilder(root.resolve("bin/flint").toString(), "lsp",
                "-m", Fixtures.model("tiny-qwen2-F16.gguf").toString(), "-t", "1", "-c", "512",
                "--debounce-ms", "0", "--t-max-predict-ms", "0", "--max-tokens", "16").start();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Thread.ofVirtual().start(() -> {
            try {
                p.getErrorStream().transferTo(stderr);
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        try {
            Launcher<LanguageServer> client = LSPLauncher.createClientLauncher(new QuietClient(),
                    p.getInputStream(), p.getOutputStream());
            client.startListening();
            LanguageServer lsp = client.getRemoteProxy();
            var init = lsp.initialize(new InitializeParams()).get(120, TimeUnit.SECONDS);
            assertTrue(init.getCapabilities().getInlineCompletionProvider().getLeft());
            lsp.initialized(new InitializedParams());
            String uri = "file:///src/calc.py";
            lsp.getTextDocumentService().didOpen(new DidOpenTextDocumentParams(new TextDocumentItem(uri, "python", 1,
                    "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    \n")));
            List<CompletionItem> items = lsp.getTextDocumentService().completion(new CompletionParams(
                    new TextDocumentIdentifier(uri), new Position(5, 4))).get(120, TimeUnit.SECONDS)
                    .getRight().getItems();
            assertEquals(1, items.size(), stderr.toString());
            assertFalse(items.getFirst().getInsertText().isEmpty());
            lsp.shutdown().get(30, TimeUnit.SECONDS);
            lsp.exit();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "flint lsp did not exit");
            assertEquals(0, p.exitValue(), stderr.toString());
            assertTrue(stderr.toString().contains("serving tiny-qwen2-F16 in-process"), stderr.toString());
        } finally {
            p.destroyForcibly();
        }
    }

    private static final class QuietClient implements LanguageClient {
        @Override
        public void telemetryEvent(Object object) {
        }

        @Override
        public void publishDiagnostics(PublishDiagnosticsParams diagnostics) {
        }

        @Override
        public void showMessage(MessageParams messageParams) {
        }

        @Override
        public CompletableFuture<MessageActionItem> showMessageRequest(ShowMessageRequestParams requestParams) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void logMessage(MessageParams message) {
        }
    }
}
