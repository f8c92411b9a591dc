package dev.flint.cli.replay;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TraceTest {
    @TempDir
    Path dir;

    @Test
    void deletesTheRangeAndTypesItBackOneCharacterAtATime() throws Exception {
        Path f = Files.writeString(dir.resolve("a.py"), "def f():\r\n    return 1\r\n");
        Trace t = Trace.load(f, Trace.Position.parse("2:5", "--from"), Trace.Position.parse("2:13", "--to"), 0);
        assertEquals("def f():\n    \n", t.initialDoc(), "CRLF is read as LF");
        assertEquals(13, t.start());
        assertEquals("return 1", String.join("", t.keys()));
        assertEquals(8, t.keys().size());
    }

    @Test
    void maxKeysDeletesOnlyWhatWillBeTyped() throws Exception {
        Path f = Files.writeString(dir.resolve("a.py"), "x = 12345\n");
        Trace t = Trace.load(f, Trace.Position.parse("1:5", "--from"), Trace.Position.parse("1:10", "--to"), 2);
        assertEquals("x = 345\n", t.initialDoc());
        assertEquals(java.util.List.of("1", "2"), t.keys());
    }

    @Test
    void theDefaultRangeIsAFewLinesFromTheMiddleStartingAtTheIndent() throws Exception {
        Path f = Files.writeString(dir.resolve("a.py"), "a\nb\nc\n\n    d = 1\n    e = 2\n\nf\ng\n");
        Trace t = Trace.load(f, null, null, 0);
        assertEquals(new Trace.Position(5, 5), t.from());
        assertEquals(new Trace.Position(8, 2), t.to());
        assertEquals("d = 1\n    e = 2\n\nf", String.join("", t.keys()));
    }

    @Test
    void refusesAPositionPastTheEndOfALine() throws Exception {
        Path f = Files.writeString(dir.resolve("a.py"), "abc\n");
        var e = assertThrows(IllegalArgumentException.class, () -> Trace.load(f,
                Trace.Position.parse("1:1", "--from"), Trace.Position.parse("1:6", "--to"), 0));
        assertEquals("--to 1:6: line 1 has 3 characters (the last column is 4)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Trace.Position.parse("3", "--from"));
    }
}
