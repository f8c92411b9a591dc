package dev.flint.server.fim;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SuffixEchoTest {
    @Test
    void theStopIsTheFirstNonBlankLineAfterTheCursorsLine() {
        assertEquals(Optional.of("\n    return total"), SuffixEcho.stopFor(")\n\n    return total  \nprint(1)\n"));
        assertEquals(Optional.of("\n}"), SuffixEcho.stopFor("\n}\n"));
        assertEquals(Optional.of("\nb"), SuffixEcho.stopFor("a\r\nb\r\n"));
    }

    @Test
    void noLineNoStop() {
        assertEquals(Optional.empty(), SuffixEcho.stopFor(""));
        assertEquals(Optional.empty(), SuffixEcho.stopFor("rest of the line only"));
        assertEquals(Optional.empty(), SuffixEcho.stopFor("x\n   \n\t\n"));
        assertEquals(Optional.empty(), SuffixEcho.stopFor("\n" + "y".repeat(300)));
    }
}
