package dev.flint.engine.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StopMatcherTest {
    @Test
    void findsAStopStringThatCompletesAcrossTokens() {
        StopMatcher m = new StopMatcher(List.of("\n\n"));
        StringBuilder text = new StringBuilder("foo\n");
        assertEquals(-1, m.find(text, 0));
        int before = text.length();
        text.append("\nbar");
        assertEquals(3, m.find(text, before));
    }

    @Test
    void reportsTheEarliestOfSeveralStops() {
        StopMatcher m = new StopMatcher(List.of("END", "x"));
        assertEquals(2, m.find("abxEND", 0));
    }

    @Test
    void holdsBackTextThatMayStartAStopString() {
        StopMatcher m = new StopMatcher(List.of("</code>"));
        assertEquals(5, m.safeLength("hello</co"));
        assertEquals(9, m.safeLength("hello</cx"));
    }

    @Test
    void withoutStopsEverythingIsSafe() {
        StopMatcher m = new StopMatcher(List.of());
        assertEquals(4, m.safeLength("abcd"));
        assertEquals(-1, m.find("abcd", 0));
    }

    @Test
    void ignoresEmptyStopStrings() {
        StopMatcher m = new StopMatcher(List.of(""));
        assertEquals(-1, m.find("abc", 0));
        assertEquals(3, m.safeLength("abc"));
    }
}
