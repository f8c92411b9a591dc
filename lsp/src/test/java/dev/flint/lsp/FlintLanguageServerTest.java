package dev.flint.lsp;

import dev.flint.server.TestServer;
import org.eclipse.lsp4j.CompletionItem;
import org.eclipse.lsp4j.CompletionList;
import org.eclipse.lsp4j.CompletionParams;
import org.eclipse.lsp4j.InlineCompletionContext;
import org.eclipse.lsp4j.InlineCompletionItem;
import org.eclipse.lsp4j.InlineCompletionParams;
import org.eclipse.lsp4j.InlineCompletionTriggerKind;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.TextDocumentIdentifier;
import org.eclipse.lsp4j.jsonrpc.messages.Either;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The language server driven by lsp4j's client over pipes, against a real Flint server on a fixture model. */
class FlintLanguageServerTest {
    private static final String URI = "file:///src/calc.py";
    private static final String TEXT = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    \n";
    /** Deterministic requests: no time budget, no debounce unless a test wants one. */
    private static final LspOptions OPTIONS = LspOptions.defaults().withDebounceMs(0).withTMaxPredictMs(0)
            .withMaxTokens(24);

    private static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer(TestServer.model("tiny-qwen2-F16.gguf"), 2, 1024, 16, null);
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    @Test
    void inlineCompletionIsTheModelsFimCompletionAtTheCursor() throws Exception {
        try (LspSession lsp = new LspSession(ts.base(), OPTIONS)) {
            lsp.open(URI, TEXT);
            List<InlineCompletionItem> items = inline(lsp, 5, 4).get(60, TimeUnit.SECONDS).getLeft();
            String[] parts = DirectFim.split(TEXT, 5, 4);
            String expected = DirectFim.complete(ts.base(), parts[0], parts[1], OPTIONS, 4);
            assertFalse(expected.isEmpty(), "the fixture model should complete something here");
            assertEquals(1, items.size());
            assertEquals(expected, items.getFirst().getInsertText().getLeft());
            assertEquals(new Position(5, 4), items.getFirst().getRange().getStart());
        }
    }

    @Test
    void completionSeesTheEditsSentAsDeltas() throws Exception {
        try (LspSession lsp = new LspSession(ts.base(), OPTIONS)) {
            lsp.open(URI, TEXT);
            lsp.edit(URI, 2, 5, 4, 5, 4, "result = a");           // type on the empty line
            lsp.edit(URI, 3, 0, 4, 0, 7, "plus");                 // rename add → plus
            String edited = "def plus(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    result = a\n";
            CompletionList list = completion(lsp, 5, 14).get(60, TimeUnit.SECONDS).getRight();
            String[] parts = DirectFim.split(edited, 5, 14);
            String expected = DirectFim.complete(ts.base(), parts[0], parts[1], OPTIONS, 4);
            assertFalse(expected.isEmpty());
            CompletionItem item = list.getItems().getFirst();
            assertEquals(expected, item.getInsertText());
            assertEquals(expected, item.getTextEdit().getLeft().getNewText());
            // the edits travelled as UTF-16 offset deltas, never as the whole file
            assertEquals(List.of("-> {\"type\":\"change\",\"doc\":\"" + URI
                            + "\",\"changes\":[{\"start\":53,\"end\":53,\"text\":\"result = a\"}]}",
                    "-> {\"type\":\"change\",\"doc\":\"" + URI
                            + "\",\"changes\":[{\"start\":4,\"end\":7,\"text\":\"plus\"}]}"),
                    lsp.sent("{\"type\":\"change\""));
        }
    }

    @Test
    void requestSupersededWithinTheDebounceNeverReachesTheServer() throws Exception {
        // a window wide enough that the second request surely arrives within it, even on a loaded machine
        try (LspSession lsp = new LspSession(ts.base(), OPTIONS.withDebounceMs(1000))) {
            lsp.open(URI, TEXT);
            var older = inline(lsp, 1, 4);
            var newer = inline(lsp, 5, 4);
            assertEquals(List.of(), older.get(60, TimeUnit.SECONDS).getLeft(), "superseded: nothing to show");
            String[] parts = DirectFim.split(TEXT, 5, 4);
            assertEquals(DirectFim.complete(ts.base(), parts[0], parts[1], OPTIONS, 4),
                    newer.get(60, TimeUnit.SECONDS).getLeft().getFirst().getInsertText().getLeft());
            assertEquals(1, lsp.sent("{\"type\":\"complete\"").size(), lsp.trace.toString());
            assertTrue(lsp.sent("{\"type\":\"cancel\"").isEmpty(), "nothing was in flight to cancel");
        }
    }

    @Test
    void cancelRequestWhileDebouncingSendsNothing() throws Exception {
        try (LspSession lsp = new LspSession(ts.base(), OPTIONS.withDebounceMs(1000))) {
            lsp.open(URI, TEXT);
            var request = completion(lsp, 5, 4);
            request.cancel(true); // lsp4j sends $/cancelRequest
            assertThrows(CancellationException.class, () -> request.get(10, TimeUnit.SECONDS));
            Thread.sleep(1500); // past the debounce: had the cancel not stopped it, it would have been sent
            assertTrue(lsp.sent("{\"type\":\"complete\"").isEmpty(), lsp.trace.toString());
            // and the bridge still answers the next one
            assertFalse(completion(lsp, 5, 4).get(60, TimeUnit.SECONDS).getRight().getItems().isEmpty());
        }
    }

    @Test
    void cancelRequestInFlightSendsAProtocolCancel() throws Exception {
        LspOptions longRun = OPTIONS.withMaxTokens(512).withStop(List.of());
        try (LspSession lsp = new LspSession(ts.base(), longRun)) {
            lsp.open(URI, TEXT);
            var request = completion(lsp, 5, 4);
            awaitTrace(lsp, "-> {\"type\":\"complete\"");
            request.cancel(true);
            String done = awaitTrace(lsp, "<- {\"type\":\"done\"");
            assertTrue(done.contains("\"finish_reason\":\"cancelled\""), done);
            assertEquals(1, lsp.sent("{\"type\":\"cancel\"").size(), lsp.trace.toString());
        }
    }

    @Test
    void newerRequestOnTheSameDocumentCancelsTheOneInFlight() throws Exception {
        LspOptions longRun = OPTIONS.withMaxTokens(512).withStop(List.of());
        try (LspSession lsp = new LspSession(ts.base(), longRun)) {
            lsp.open(URI, TEXT);
            var older = inline(lsp, 5, 4);
            awaitTrace(lsp, "-> {\"type\":\"complete\"");
            var newer = inline(lsp, 1, 4);
            assertEquals(List.of(), older.get(60, TimeUnit.SECONDS).getLeft());
            String cancel = awaitTrace(lsp, "-> {\"type\":\"cancel\"");
            String olderId = lsp.sent("{\"type\":\"complete\"").getFirst().replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
            assertTrue(cancel.contains("\"id\":\"" + olderId + "\""), cancel);
            assertFalse(newer.get(60, TimeUnit.SECONDS).getLeft().isEmpty());
        }
    }

    @Test
    void aDroppedConnectionIsReopenedWithTheDocumentsAsTheEditorHasThem() throws Exception {
        try (LspSession lsp = new LspSession(ts.base(), OPTIONS)) {
            lsp.open(URI, TEXT);
            awaitTrace(lsp, "-> {\"type\":\"open\""); // didOpen is a notification: wait until it went through
            lsp.server.bridge().socket().close(); // as when the server restarts or a proxy drops the socket
            lsp.edit(URI, 2, 5, 4, 5, 4, "result = a");
            String edited = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    result = a\n";
            String[] parts = DirectFim.split(edited, 5, 14);
            assertEquals(DirectFim.complete(ts.base(), parts[0], parts[1], OPTIONS, 4),
                    completion(lsp, 5, 14).get(60, TimeUnit.SECONDS).getRight().getItems().getFirst().getInsertText());
            assertEquals(2, lsp.received("{\"type\":\"hello\"").size(), lsp.trace.toString());
            assertEquals(2, lsp.sent("{\"type\":\"open\"").size(), "the document was reopened whole");
        }
    }

    @Test
    void unreachableServerIsAnErrorThatSaysWhere() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        try (LspSession lsp = new LspSession("http://127.0.0.1:" + port, OPTIONS)) {
            lsp.open(URI, TEXT);
            var e = assertThrows(ExecutionException.class, () -> completion(lsp, 5, 4).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("cannot connect to Flint at ws://127.0.0.1:" + port
                    + "/v1/ws: connection refused"), e.getCause().getMessage());
        }
    }

    @Test
    void apiKeyGoesAsABearerTokenAndAWrongOneIsNamed() throws Exception {
        try (TestServer keyed = new TestServer(TestServer.model("tiny-qwen2-F16.gguf"), 1, 512, 4, "s3cret")) {
            try (LspSession lsp = new LspSession(keyed.base(), "wrong", OPTIONS)) {
                lsp.open(URI, TEXT);
                var e = assertThrows(ExecutionException.class,
                        () -> completion(lsp, 5, 4).get(30, TimeUnit.SECONDS));
                assertTrue(e.getCause().getMessage().contains("HTTP 401 (wrong or missing --api-key)"),
                        e.getCause().getMessage());
            }
            try (LspSession lsp = new LspSession(keyed.base(), "s3cret", OPTIONS)) {
                lsp.open(URI, TEXT);
                assertEquals(1, completion(lsp, 5, 4).get(60, TimeUnit.SECONDS).getRight().getItems().size());
            }
        }
    }

    private static CompletableFuture<Either<List<InlineCompletionItem>, org.eclipse.lsp4j.InlineCompletionList>>
            inline(LspSession lsp, int line, int character) {
        return lsp.remote.getTextDocumentService().inlineCompletion(new InlineCompletionParams(
                new TextDocumentIdentifier(URI), new Position(line, character),
                new InlineCompletionContext(InlineCompletionTriggerKind.Automatic)));
    }

    private static CompletableFuture<Either<List<CompletionItem>, CompletionList>> completion(LspSession lsp,
                                                                                          int line, int character) {
        return lsp.remote.getTextDocumentService().completion(new CompletionParams(new TextDocumentIdentifier(URI),
                new Position(line, character)));
    }

    private static String awaitTrace(LspSession lsp, String start) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (String m : lsp.trace) {
                if (m.startsWith(start)) {
                    return m;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no message starting " + start + " in " + lsp.trace);
    }
}
