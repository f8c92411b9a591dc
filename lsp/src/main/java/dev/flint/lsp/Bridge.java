package dev.flint.lsp;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.TextDocumentContentChangeEvent;

import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Keeps the server's copy of the editor's documents in step with the editor's, by deltas, over one WebSocket that
 * it reconnects on demand (reopening every document whole, since the server forgets a socket's documents when it
 * closes). Editing the local copy and sending the matching message happen under one lock, so the server sees the
 * edits in the order the editor made them, and a completion sent afterwards sees all of them.
 */
final class Bridge implements AutoCloseable {
    /** After a failed connection, document edits wait this long before trying again (completions always try). */
    private static final long RETRY_MS = 2000;
    private static final long RESYNC_MS = 10_000;

    /** A {@code complete} message (without its id) for one version of a document. */
    record Request(String uri, int version, ObjectNode message) {
    }

    private final Backend backend;
    private final LspOptions options;
    private final Consumer<String> trace;
    private final OpenDocuments docs = new OpenDocuments();
    private FlintSocket socket;
    private long retryAt;
    private long lastResync;

    Bridge(Backend backend, LspOptions options, Consumer<String> trace) {
        this.backend = backend;
        this.options = options;
        this.trace = trace;
    }

    synchronized void open(String uri, String text, int version) {
        FlintSocket s = socketIfReady(); // first: a new connection reopens the documents as they were before this
        docs.open(uri, text, version);
        if (s != null) {
            s.send(openMessage(docs.get(uri)));
        }
    }

    /** Applies LSP content changes in order: ranges become UTF-16 offsets into the text as it is at that point. */
    synchronized void change(String uri, int version, List<TextDocumentContentChangeEvent> changes) {
        OpenDocuments.Doc d = docs.get(uri);
        if (d == null) {
            Log.warn("didChange for a document that is not open: " + uri);
            return;
        }
        FlintSocket s = socketIfReady(); // first: a new connection sends the text before these changes
        ArrayNode deltas = FlintSocket.JSON.createArrayNode();
        boolean whole = false;
        for (TextDocumentContentChangeEvent c : changes) {
            if (c.getRange() == null) {
                docs.replace(d, 0, d.text.length(), c.getText(), version);
                whole = true;
                continue;
            }
            int start = OpenDocuments.offset(d.text, c.getRange().getStart().getLine(),
                    c.getRange().getStart().getCharacter());
            int end = Math.max(start, OpenDocuments.offset(d.text, c.getRange().getEnd().getLine(),
                    c.getRange().getEnd().getCharacter()));
            docs.replace(d, start, end, c.getText(), version);
            deltas.addObject().put("start", start).put("end", end).put("text", c.getText());
        }
        d.version = version;
        if (s == null) {
            return; // the whole document goes with the next connection
        }
        ObjectNode m = FlintSocket.JSON.createObjectNode().put("type", "change").put("doc", uri);
        if (whole) {
            m.put("text", d.text.toString()); // the editor sent the whole text: so does the bridge
        } else {
            m.set("changes", deltas);
        }
        s.send(m);
    }

    synchronized void close(String uri) {
        if (docs.get(uri) == null) {
            return;
        }
        FlintSocket s = socketIfReady();
        docs.close(uri);
        if (s != null) {
            s.send(FlintSocket.JSON.createObjectNode().put("type", "close").put("doc", uri));
        }
    }

    /**
     * The {@code complete} for a cursor (no id yet), with the FIM defaults and the other documents as {@code extra};
     * null if the document is not open.
     */
    synchronized Request prepare(String uri, Position p) {
        OpenDocuments.Doc d = docs.get(uri);
        if (d == null) {
            return null;
        }
        int offset = OpenDocuments.offset(d.text, p.getLine(), p.getCharacter());
        ObjectNode m = FlintSocket.JSON.createObjectNode().put("type", "complete").put("doc", uri)
                .put("cursor", offset).put("max_tokens", options.maxTokens())
                .put("n_indent", OpenDocuments.indent(d.text, p.getLine(), p.getCharacter()));
        if (options.tMaxPredictMs() > 0) {
            m.put("t_max_predict_ms", options.tMaxPredictMs());
        }
        if (!options.stop().isEmpty()) {
            ArrayNode stop = m.putArray("stop");
            options.stop().forEach(stop::add);
        }
        List<OpenDocuments.Chunk> extra = docs.extra(uri, options.extraChunks(), options.extraLines(),
                LspOptions.EXTRA_MAX_CHARS);
        if (!extra.isEmpty()) {
            ArrayNode ex = m.putArray("extra");
            extra.forEach(c -> ex.addObject().put("filename", c.filename()).put("text", c.text()));
        }
        docs.touch(d, p.getLine());
        return new Request(uri, d.version, m);
    }

    /**
     * Runs {@code send} on the socket if the request's document has not changed since it was prepared (else returns
     * null: the editor asks again for the new text). Under the lock, so no edit slips between the check and the
     * send. Connects, waiting for an in-process model to load, when needed.
     */
    synchronized <T> T sendIfCurrent(Request r, Function<FlintSocket, T> send) throws IOException {
        OpenDocuments.Doc d = docs.get(r.uri());
        if (d == null || d.version != r.version()) {
            return null;
        }
        return send.apply(socket());
    }

    /** The open socket, connecting (and reopening every document) if there is none. */
    synchronized FlintSocket socket() throws IOException {
        if (socket != null && socket.isOpen()) {
            return socket;
        }
        Backend.Endpoint e = backend.endpoint();
        try {
            socket = FlintSocket.connect(e.ws(), e.apiKey(), trace);
        } catch (IOException ex) {
            retryAt = System.currentTimeMillis() + RETRY_MS;
            throw ex;
        }
        FlintSocket.Hello h = socket.hello();
        Log.info("connected to " + e.ws() + " (model " + h.model() + ", " + h.slots() + " slots"
                + (h.fim() ? "" : "; no FIM tokens, so completions will fail") + ")");
        FlintSocket s = socket;
        s.onSyncError(() -> resync(s));
        docs.all().forEach(d -> s.send(openMessage(d)));
        return s;
    }

    /**
     * The server refused an edit (the copies diverged): send every document whole again. At most every
     * {@code RESYNC_MS}, so a document the server will never take (too large) cannot start a loop.
     */
    private synchronized void resync(FlintSocket s) {
        long now = System.currentTimeMillis();
        if (s == socket && s.isOpen() && now - lastResync >= RESYNC_MS) {
            lastResync = now;
            Log.warn("resending the open documents whole");
            docs.all().forEach(d -> s.send(openMessage(d)));
        }
    }

    private FlintSocket socketIfReady() {
        if (socket != null && socket.isOpen()) {
            return socket;
        }
        if (!backend.ready() || System.currentTimeMillis() < retryAt) {
            return null;
        }
        try {
            return socket();
        } catch (IOException e) {
            Log.warn(e.getMessage() + " (retrying at the next request)");
            return null;
        }
    }

    private static ObjectNode openMessage(OpenDocuments.Doc d) {
        return FlintSocket.JSON.createObjectNode().put("type", "open").put("doc", d.uri).put("text", d.text.toString());
    }

    @Override
    public synchronized void close() {
        if (socket != null) {
            socket.close();
        }
        backend.close();
    }
}
