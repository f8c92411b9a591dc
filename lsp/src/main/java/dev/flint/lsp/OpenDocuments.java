package dev.flint.lsp;

import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The bridge's copy of the documents the editor has open: needed to turn LSP positions into the protocol's UTF-16
 * offsets (LSP's default position encoding is UTF-16, Java's {@code char}), to reopen documents after a reconnect, to
 * read the cursor line's indentation and to cut {@code extra} context chunks from the other files.
 * Not thread-safe: {@link Bridge} guards it.
 */
final class OpenDocuments {
    /** One open document; {@code lastLine} is where it was last edited or completed (the centre of its chunk). */
    static final class Doc {
        final String uri;
        final StringBuilder text;
        int version;
        int lastLine;
        long touched;

        Doc(String uri, String text, int version) {
            this.uri = uri;
            this.text = new StringBuilder(text);
            this.version = version;
        }
    }

    /** A context chunk for the protocol's {@code extra}. */
    record Chunk(String filename, String text) {
    }

    private final Map<String, Doc> docs = new HashMap<>();
    private long clock;

    void open(String uri, String text, int version) {
        Doc d = new Doc(uri, text, version);
        d.touched = ++clock;
        docs.put(uri, d);
    }

    void close(String uri) {
        docs.remove(uri);
    }

    Doc get(String uri) {
        return docs.get(uri);
    }

    List<Doc> all() {
        return List.copyOf(docs.values());
    }

    /** Replaces {@code [start, end)} (UTF-16 offsets) and remembers the line as the document's focus. */
    void replace(Doc d, int start, int end, String text, int version) {
        d.text.replace(start, end, text);
        d.version = version;
        d.lastLine = lineOf(d.text, start);
        d.touched = ++clock;
    }

    /** Marks a document as the one being completed in (most recent first when others ask for context). */
    void touch(Doc d, int line) {
        d.lastLine = line;
        d.touched = ++clock;
    }

    /**
     * The UTF-16 offset of an LSP position. Lines end at {@code \n}, {@code \r\n} or {@code \r}, as LSP says; a
     * character past the line's end means the end of the line and a line past the document's end its end.
     */
    static int offset(CharSequence text, int line, int character) {
        int pos = 0;
        int n = text.length();
        for (int l = 0; l < line; l++) {
            int next = nextLine(text, pos);
            if (next < 0) {
                return n;
            }
            pos = next;
        }
        int end = pos;
        while (end < n && text.charAt(end) != '\n' && text.charAt(end) != '\r') {
            end++;
        }
        return Math.min(pos + Math.max(0, character), end);
    }

    /** Leading spaces and tabs of {@code line}, at most up to {@code character}: llama.vim's {@code n_indent}. */
    static int indent(CharSequence text, int line, int character) {
        int start = offset(text, line, 0);
        int i = start;
        while (i < text.length() && i - start < character && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
            i++;
        }
        return i - start;
    }

    /**
     * Context from the other open documents, like llama.vim's ring buffer: chunks of {@code lines} lines around
     * where each was last edited (each at most {@code maxChars} characters) from the {@code maxChunks} most recently
     * used, the most recent last (nearest the cursor's own text in the prompt). They do not change while the user
     * types in the current document, so the server's prompt cache keeps them.
     */
    List<Chunk> extra(String exceptUri, int maxChunks, int lines, int maxChars) {
        List<Doc> others = new ArrayList<>(docs.values());
        others.removeIf(d -> d.uri.equals(exceptUri) || d.text.isEmpty());
        others.sort(Comparator.comparingLong((Doc d) -> d.touched).reversed());
        List<Chunk> chunks = new ArrayList<>();
        for (Doc d : others.subList(0, Math.min(maxChunks, others.size())).reversed()) {
            int first = Math.max(0, d.lastLine - lines / 2);
            int start = offset(d.text, first, 0);
            int end = offset(d.text, first + lines, 0);
            String text = d.text.substring(start, Math.min(end, start + maxChars));
            if (!text.isBlank()) {
                chunks.add(new Chunk(filename(d.uri), text));
            }
        }
        return chunks;
    }

    static String filename(String uri) {
        try {
            String path = URI.create(uri).getPath();
            if (path != null && !path.isEmpty()) {
                return path;
            }
        } catch (IllegalArgumentException ignored) {
            // not a URI: the name as given
        }
        return uri;
    }

    private static int lineOf(CharSequence text, int offset) {
        int line = 0;
        int pos = 0;
        while (true) {
            int next = nextLine(text, pos);
            if (next < 0 || next > offset) {
                return line;
            }
            pos = next;
            line++;
        }
    }

    /** The start of the line after the one containing {@code pos}, or -1 on the last line. */
    private static int nextLine(CharSequence text, int pos) {
        int n = text.length();
        for (int i = pos; i < n; i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                return i + 1;
            }
            if (c == '\r') {
                return i + 1 < n && text.charAt(i + 1) == '\n' ? i + 2 : i + 1;
            }
        }
        return -1;
    }
}
