package dev.flint.server.ws;

import dev.flint.server.http.ApiException;

import java.util.HashMap;
import java.util.Map;

/**
 * The documents a WebSocket client has opened, kept in sync by incremental edits so a completion request can name a
 * document and a cursor instead of resending the file. Offsets are UTF-16 code units (JavaScript string indices).
 * Per connection; bounded in count and size.
 */
final class Documents {
    static final int MAX_DOCUMENTS = 256;
    static final int MAX_CHARS = 4 << 20;

    private final Map<String, StringBuilder> docs = new HashMap<>();

    synchronized void open(String uri, String text) {
        if (!docs.containsKey(uri) && docs.size() >= MAX_DOCUMENTS) {
            throw ApiException.badRequest("too many open documents (at most " + MAX_DOCUMENTS + "); close some");
        }
        check(text.length());
        docs.put(uri, new StringBuilder(text));
    }

    /** Replaces {@code [start, end)} with {@code text}. */
    synchronized void change(String uri, int start, int end, String text) {
        StringBuilder d = get(uri);
        if (start < 0 || end < start || end > d.length()) {
            throw ApiException.badParam("changes", "edit range [" + start + ", " + end + ") is outside the document"
                    + " (length " + d.length() + ")");
        }
        check(d.length() - (end - start) + text.length());
        d.replace(start, end, text);
    }

    synchronized void close(String uri) {
        if (docs.remove(uri) == null) {
            throw ApiException.badParam("doc", "document '" + uri + "' is not open");
        }
    }

    /** {@code [prefix, suffix]} split at a UTF-16 offset. */
    synchronized String[] split(String uri, int offset) {
        StringBuilder d = get(uri);
        if (offset < 0 || offset > d.length()) {
            throw ApiException.badParam("cursor", "cursor " + offset + " is outside the document (length "
                    + d.length() + ")");
        }
        return new String[] {d.substring(0, offset), d.substring(offset)};
    }

    /** The UTF-16 offset of a zero-based line and character. */
    synchronized int offset(String uri, int line, int character) {
        StringBuilder d = get(uri);
        int pos = 0;
        for (int l = 0; l < line; l++) {
            int nl = d.indexOf("\n", pos);
            if (nl < 0) {
                throw ApiException.badParam("cursor", "line " + line + " is past the end of the document");
            }
            pos = nl + 1;
        }
        int eol = d.indexOf("\n", pos);
        int lineEnd = eol < 0 ? d.length() : eol;
        return Math.min(pos + character, lineEnd);
    }

    synchronized int length(String uri) {
        return get(uri).length();
    }

    private StringBuilder get(String uri) {
        StringBuilder d = docs.get(uri);
        if (d == null) {
            throw ApiException.badParam("doc", "document '" + uri + "' is not open; send an 'open' message first");
        }
        return d;
    }

    private static void check(int length) {
        if (length > MAX_CHARS) {
            throw ApiException.badRequest("document too large: " + length + " characters, at most " + MAX_CHARS);
        }
    }
}
