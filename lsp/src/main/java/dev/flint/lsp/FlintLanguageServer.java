package dev.flint.lsp;

import org.eclipse.lsp4j.CompletionItem;
import org.eclipse.lsp4j.CompletionItemKind;
import org.eclipse.lsp4j.CompletionList;
import org.eclipse.lsp4j.CompletionOptions;
import org.eclipse.lsp4j.CompletionParams;
import org.eclipse.lsp4j.DidChangeConfigurationParams;
import org.eclipse.lsp4j.DidChangeTextDocumentParams;
import org.eclipse.lsp4j.DidChangeWatchedFilesParams;
import org.eclipse.lsp4j.DidCloseTextDocumentParams;
import org.eclipse.lsp4j.DidOpenTextDocumentParams;
import org.eclipse.lsp4j.DidSaveTextDocumentParams;
import org.eclipse.lsp4j.InitializeParams;
import org.eclipse.lsp4j.InitializeResult;
import org.eclipse.lsp4j.InlineCompletionItem;
import org.eclipse.lsp4j.InlineCompletionList;
import org.eclipse.lsp4j.InlineCompletionParams;
import org.eclipse.lsp4j.InsertTextFormat;
import org.eclipse.lsp4j.MarkupContent;
import org.eclipse.lsp4j.MarkupKind;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.Range;
import org.eclipse.lsp4j.ServerCapabilities;
import org.eclipse.lsp4j.ServerInfo;
import org.eclipse.lsp4j.TextDocumentSyncKind;
import org.eclipse.lsp4j.TextDocumentSyncOptions;
import org.eclipse.lsp4j.TextEdit;
import org.eclipse.lsp4j.jsonrpc.ResponseErrorException;
import org.eclipse.lsp4j.jsonrpc.messages.Either;
import org.eclipse.lsp4j.jsonrpc.messages.ResponseError;
import org.eclipse.lsp4j.jsonrpc.messages.ResponseErrorCode;
import org.eclipse.lsp4j.services.LanguageServer;
import org.eclipse.lsp4j.services.TextDocumentService;
import org.eclipse.lsp4j.services.WorkspaceService;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The language server: editors' LSP requests become Flint protocol messages through a {@link Bridge} (documents,
 * by deltas) and a {@link Completer} (completions). Two kinds of completion over one request path:
 * {@code textDocument/inlineCompletion} (LSP 3.18 ghost text) and {@code textDocument/completion} (one item that
 * inserts the model's text at the cursor, for every other editor).
 */
public final class FlintLanguageServer implements LanguageServer, AutoCloseable {
    private static final int LABEL_CHARS = 60;

    private final Bridge bridge;
    private final Completer completer;
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private final TextDocumentService documents = new Documents();
    private final WorkspaceService workspace = new Workspace();
    private volatile boolean shutdown;
    private final AtomicBoolean closed = new AtomicBoolean();

    FlintLanguageServer(Backend backend, LspOptions options) {
        this(backend, options, options.trace() ? Log::info : m -> { });
    }

    /** With {@code trace} told every protocol message, prefixed {@code "-> "} (sent) or {@code "<- "}. */
    FlintLanguageServer(Backend backend, LspOptions options, Consumer<String> trace) {
        this.bridge = new Bridge(backend, options, trace);
        this.completer = new Completer(bridge, backend, options);
    }

    /** A bridge to the running Flint server at {@code url} ({@code http://host:port}). */
    public static FlintLanguageServer remote(String url, String apiKey, LspOptions options) {
        return new FlintLanguageServer(Backend.remote(url, apiKey), options);
    }

    /** A bridge to a Flint server this process starts on a loopback port over {@code model}. */
    public static FlintLanguageServer inProcess(Path model, int threads, int ctx, int slots,
                                                LspOptions options) {
        return new FlintLanguageServer(new InProcessBackend(model, threads, ctx, slots), options);
    }

    Bridge bridge() {
        return bridge;
    }

    /** Completes with the exit code when the client sends {@code exit} (0 after {@code shutdown}, 1 otherwise). */
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    @Override
    public CompletableFuture<InitializeResult> initialize(InitializeParams params) {
        ServerCapabilities caps = new ServerCapabilities();
        TextDocumentSyncOptions sync = new TextDocumentSyncOptions();
        sync.setOpenClose(true);
        sync.setChange(TextDocumentSyncKind.Incremental);
        caps.setTextDocumentSync(sync);
        caps.setPositionEncoding("utf-16"); // Java strings and the protocol's offsets are UTF-16 too
        CompletionOptions completion = new CompletionOptions();
        completion.setResolveProvider(false);
        caps.setCompletionProvider(completion);
        caps.setInlineCompletionProvider(true);
        return CompletableFuture.completedFuture(new InitializeResult(caps, new ServerInfo("flint")));
    }

    @Override
    public CompletableFuture<Object> shutdown() {
        shutdown = true;
        close();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void exit() {
        close();
        exited.complete(shutdown ? 0 : 1);
    }

    @Override
    public TextDocumentService getTextDocumentService() {
        return documents;
    }

    @Override
    public WorkspaceService getWorkspaceService() {
        return workspace;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            completer.close();
            bridge.close();
        }
    }

    /** {@code textDocument/*}: document sync and the two completion requests. */
    private final class Documents implements TextDocumentService {
        @Override
        public void didOpen(DidOpenTextDocumentParams params) {
            var d = params.getTextDocument();
            bridge.open(d.getUri(), d.getText(), d.getVersion());
        }

        @Override
        public void didChange(DidChangeTextDocumentParams params) {
            var d = params.getTextDocument();
            bridge.change(d.getUri(), d.getVersion(), params.getContentChanges());
        }

        @Override
        public void didClose(DidCloseTextDocumentParams params) {
            bridge.close(params.getTextDocument().getUri());
        }

        @Override
        public void didSave(DidSaveTextDocumentParams params) {
            // the server already has every edit
        }

        @Override
        public CompletableFuture<Either<List<CompletionItem>, CompletionList>> completion(CompletionParams params) {
            Position at = params.getPosition();
            return complete(params.getTextDocument().getUri(), at, text -> {
                // isIncomplete: typing on asks again, so the next keystroke gets a fresh completion
                return Either.forRight(new CompletionList(true, text.isEmpty() ? List.of()
                        : List.of(item(text, at))));
            });
        }

        @Override
        public CompletableFuture<Either<List<InlineCompletionItem>, InlineCompletionList>> inlineCompletion(
                InlineCompletionParams params) {
            Position at = params.getPosition();
            return complete(params.getTextDocument().getUri(), at, text -> {
                if (text.isEmpty()) {
                    return Either.forLeft(List.of());
                }
                InlineCompletionItem item = new InlineCompletionItem(Either.forLeft(text));
                item.setRange(new Range(at, at));
                return Either.forLeft(List.of(item));
            });
        }
    }

    private static CompletionItem item(String text, Position at) {
        String first = text.strip().lines().findFirst().orElse("");
        CompletionItem item = new CompletionItem(first.length() > LABEL_CHARS
                ? first.substring(0, LABEL_CHARS) + "…" : first);
        item.setKind(CompletionItemKind.Text);
        item.setDetail("Flint");
        item.setInsertTextFormat(InsertTextFormat.PlainText); // the model's text is not a snippet: no $ expansion
        item.setInsertText(text);
        item.setTextEdit(Either.forLeft(new TextEdit(new Range(at, at), text)));
        if (text.contains("\n")) {
            item.setDocumentation(new MarkupContent(MarkupKind.MARKDOWN, "```\n" + text + "\n```"));
        }
        return item;
    }

    /**
     * One completion through the {@link Completer}, mapped to an LSP result. lsp4j cancels the returned future on
     * {@code $/cancelRequest}, which must reach the completer's own future.
     */
    private <T> CompletableFuture<T> complete(String uri, Position at, Function<String, T> map) {
        CompletableFuture<String> text = completer.complete(uri, at);
        CompletableFuture<T> result = text.handle((t, e) -> {
            if (e != null) {
                throw toResponseError(e);
            }
            return map.apply(t);
        });
        result.whenComplete((r, e) -> {
            if (result.isCancelled()) {
                text.cancel(true);
            }
        });
        return result;
    }

    private static ResponseErrorException toResponseError(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof CancellationException) {
            return new ResponseErrorException(new ResponseError(ResponseErrorCode.RequestCancelled, "cancelled",
                    null));
        }
        if (cause instanceof IllegalArgumentException) {
            return new ResponseErrorException(new ResponseError(ResponseErrorCode.InvalidParams, cause.getMessage(),
                    null));
        }
        String message = cause instanceof FlintSocket.ServerError se
                ? "Flint refused the completion (" + se.status + "): " + se.getMessage()
                : cause.getMessage() != null ? cause.getMessage() : FlintSocket.rootMessage(cause);
        return new ResponseErrorException(new ResponseError(ResponseErrorCode.InternalError, message, null));
    }

    /** The workspace notifications the interface requires; the bridge needs none of them. */
    private static final class Workspace implements WorkspaceService {
        @Override
        public void didChangeConfiguration(DidChangeConfigurationParams params) {
        }

        @Override
        public void didChangeWatchedFiles(DidChangeWatchedFilesParams params) {
        }
    }
}
