package dev.flint.lsp;

import org.eclipse.lsp4j.DidChangeTextDocumentParams;
import org.eclipse.lsp4j.DidOpenTextDocumentParams;
import org.eclipse.lsp4j.InitializeParams;
import org.eclipse.lsp4j.InitializedParams;
import org.eclipse.lsp4j.MessageActionItem;
import org.eclipse.lsp4j.MessageParams;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.PublishDiagnosticsParams;
import org.eclipse.lsp4j.Range;
import org.eclipse.lsp4j.ShowMessageRequestParams;
import org.eclipse.lsp4j.TextDocumentContentChangeEvent;
import org.eclipse.lsp4j.TextDocumentItem;
import org.eclipse.lsp4j.VersionedTextDocumentIdentifier;
import org.eclipse.lsp4j.jsonrpc.Launcher;
import org.eclipse.lsp4j.launch.LSPLauncher;
import org.eclipse.lsp4j.services.LanguageClient;
import org.eclipse.lsp4j.services.LanguageServer;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Flint's language server on one end of two pipes and lsp4j's own client launcher on the other, as an editor would
 * drive it; every protocol message the bridge exchanges with the Flint server is recorded in {@link #trace}.
 */
final class LspSession implements AutoCloseable {
    final List<String> trace = new CopyOnWriteArrayList<>();
    final LanguageServer remote;
    final FlintLanguageServer server;
    private final CompletableFuture<Integer> serving;

    LspSession(String serverUrl, LspOptions options) throws Exception {
        this(serverUrl, null, options);
    }

    LspSession(String serverUrl, String apiKey, LspOptions options) throws Exception {
        Pipe toServer = Pipe.open();
        Pipe toClient = Pipe.open();
        server = new FlintLanguageServer(Backend.remote(serverUrl, apiKey), options, trace::add);
        serving = CompletableFuture.supplyAsync(() -> {
            try {
                return LspCommand.serve(server, Channels.newInputStream(toServer.source()),
                        Channels.newOutputStream(toClient.sink()));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Launcher<LanguageServer> client = LSPLauncher.createClientLauncher(new QuietClient(),
                Channels.newInputStream(toClient.source()), Channels.newOutputStream(toServer.sink()));
        client.startListening();
        remote = client.getRemoteProxy();
        remote.initialize(new InitializeParams()).get(10, TimeUnit.SECONDS);
        remote.initialized(new InitializedParams());
    }

    void open(String uri, String text) {
        remote.getTextDocumentService().didOpen(new DidOpenTextDocumentParams(
                new TextDocumentItem(uri, "python", 1, text)));
    }

    /** One incremental edit: replace the range with {@code text}. */
    void edit(String uri, int version, int line0, int char0, int line1, int char1, String text) {
        var change = new TextDocumentContentChangeEvent(new Range(new Position(line0, char0),
                new Position(line1, char1)), text);
        remote.getTextDocumentService().didChange(new DidChangeTextDocumentParams(
                new VersionedTextDocumentIdentifier(uri, version), List.of(change)));
    }

    /** Protocol messages the bridge sent whose JSON starts like {@code start}, e.g. {@code {"type":"complete"}. */
    List<String> sent(String start) {
        return trace.stream().filter(m -> m.startsWith("-> " + start)).toList();
    }

    List<String> received(String start) {
        return trace.stream().filter(m -> m.startsWith("<- " + start)).toList();
    }

    @Override
    public void close() throws IOException {
        try {
            remote.shutdown().get(10, TimeUnit.SECONDS);
            remote.exit();
            if (serving.get(10, TimeUnit.SECONDS) != 0) {
                throw new IOException("the language server exited with a failure code after shutdown and exit");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("the language server did not shut down cleanly", e);
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
