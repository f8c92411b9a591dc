package dev.flint.cli.replay;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The cursor context matches what llama.vim's s:fim_ctx_local builds from Vim's lines. */
class LocalContextTest {
    private static final String DOC = "a\nb\n    cur|sor\nc\nd\n";

    private static LocalContext at(String doc, int nPrefix, int nSuffix) {
        int cursor = doc.indexOf('|');
        return LocalContext.at(doc.replace("|", ""), cursor, nPrefix, nSuffix);
    }

    @Test
    void splitsTheCursorLineAndJoinsWholeLinesAroundIt() {
        LocalContext c = at(DOC, 256, 64);
        assertEquals("a\nb\n", c.prefix());
        assertEquals("    cur", c.middle());
        assertEquals("sor\nc\nd\n", c.suffix(), "the file's final newline does not add an empty line");
        assertEquals(4, c.indent());
    }

    @Test
    void boundsThePrefixAndSuffixInLines() {
        LocalContext c = at(DOC, 1, 1);
        assertEquals("b\n", c.prefix());
        assertEquals("sor\nc\n", c.suffix());
        LocalContext none = at(DOC, 0, 0);
        assertEquals("\n", none.prefix(), "join([]) . \"\\n\"");
        assertEquals("sor\n\n", none.suffix());
    }

    @Test
    void aWhitespaceOnlyLineIsSentEmptyWithIndentZero() {
        LocalContext c = at("x\n    |\ny", 256, 64);
        assertEquals("x\n", c.prefix());
        assertEquals("", c.middle());
        assertEquals("\ny\n", c.suffix());
        assertEquals(0, c.indent());
    }

    @Test
    void theFirstLineHasAnEmptyPrefix() {
        LocalContext c = at("de|f f():\n    pass", 256, 64);
        assertEquals("\n", c.prefix());
        assertEquals("de", c.middle());
        assertEquals("f f():\n    pass\n", c.suffix());
    }
}
