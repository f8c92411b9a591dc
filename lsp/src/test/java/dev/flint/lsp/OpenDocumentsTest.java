package dev.flint.lsp;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenDocumentsTest {
    @Test
    void positionsCountUtf16UnitsAndEveryLspLineEnding() {
        String text = "a\r\nb😀c\rd\ne";
        assertEquals(3, OpenDocuments.offset(text, 1, 0));
        assertEquals(6, OpenDocuments.offset(text, 1, 3), "the emoji is two UTF-16 units, as LSP counts");
        assertEquals(8, OpenDocuments.offset(text, 2, 0), "a lone \\r ends a line");
        assertEquals(10, OpenDocuments.offset(text, 3, 0));
        assertEquals(7, OpenDocuments.offset(text, 1, 99), "past the line's end: its end");
        assertEquals(text.length(), OpenDocuments.offset(text, 9, 0), "past the last line: the document's end");
    }

    @Test
    void indentIsTheCursorLinesLeadingWhitespaceUpToTheCursor() {
        String text = "def f():\n\t    x = 1\n";
        assertEquals(5, OpenDocuments.indent(text, 1, 9));
        assertEquals(2, OpenDocuments.indent(text, 1, 2));
        assertEquals(0, OpenDocuments.indent(text, 0, 5));
    }

    @Test
    void extraContextIsTheOtherDocumentsMostRecentFirstAroundTheirLastEdit() {
        OpenDocuments docs = new OpenDocuments();
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            big.append("line ").append(i).append('\n');
        }
        docs.open("file:///a.py", big.toString(), 1);
        docs.open("file:///b.py", "import a\n", 1);
        docs.open("file:///c.py", "current\n", 1);
        OpenDocuments.Doc a = docs.get("file:///a.py");
        int at = OpenDocuments.offset(a.text, 100, 0);
        docs.replace(a, at, at, "edited ", 2);

        List<OpenDocuments.Chunk> extra = docs.extra("file:///c.py", 8, 10, 4096);
        assertEquals(List.of("/b.py", "/a.py"), extra.stream().map(OpenDocuments.Chunk::filename).toList());
        assertTrue(extra.getLast().text().startsWith("line 95\n"), extra.getLast().text());
        assertEquals(10, extra.getLast().text().lines().count());
        assertTrue(extra.getLast().text().contains("edited line 100"));
        assertEquals(1, docs.extra("file:///c.py", 1, 10, 4096).size(), "at most maxChunks");
        assertEquals(12, docs.extra("file:///c.py", 1, 10, 12).getFirst().text().length(), "at most maxChars");
    }

    @Test
    void serverUrlsMapToTheProtocolsWebSocket() {
        assertEquals(URI.create("ws://127.0.0.1:8012/v1/ws"), Backend.webSocketUri("http://127.0.0.1:8012"));
        assertEquals(URI.create("ws://127.0.0.1:8012/v1/ws"), Backend.webSocketUri("http://127.0.0.1:8012/"));
        assertEquals(URI.create("wss://flint.example/llm/v1/ws"), Backend.webSocketUri("https://flint.example/llm"));
        assertEquals(URI.create("ws://h:1/custom"), Backend.webSocketUri("ws://h:1/custom"));
        var e = assertThrows(IllegalArgumentException.class, () -> Backend.webSocketUri("127.0.0.1:8012"));
        assertTrue(e.getMessage().contains("expected http://HOST:PORT"), e.getMessage());
    }
}
