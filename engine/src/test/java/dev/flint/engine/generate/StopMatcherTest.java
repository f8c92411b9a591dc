package dev.flint.engine.generate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

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

    /** Against the definitions on Strings, over random texts of few letters (so matches and near-matches abound). */
    @Test
    void findAndSafeLengthFollowTheirDefinitions() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int trial = 0; trial < 2000; trial++) {
            List<String> stops = new ArrayList<>();
            for (int k = rnd.nextInt(4); k > 0; k--) {
                stops.add(word(rnd, 1 + rnd.nextInt(4)));
            }
            StopMatcher m = new StopMatcher(stops);
            StringBuilder text = new StringBuilder(word(rnd, rnd.nextInt(12)));
            int from = rnd.nextInt(text.length() + 1);
            int expected = -1;
            for (String stop : stops) {
                int i = text.toString().indexOf(stop, Math.max(0, from - stop.length() + 1));
                if (i >= 0 && (expected < 0 || i < expected)) {
                    expected = i;
                }
            }
            assertEquals(expected, m.find(text, from), stops + " in " + text + " from " + from);
            int hold = 0;
            for (String stop : stops) {
                for (int k = 1; k < stop.length() && k <= text.length(); k++) {
                    if (text.toString().endsWith(stop.substring(0, k))) {
                        hold = Math.max(hold, k);
                    }
                }
            }
            assertEquals(text.length() - hold, m.safeLength(text), stops + " at the end of " + text);
        }
    }

    private static String word(SplittableRandom rnd, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append((char) ('a' + rnd.nextInt(3)));
        }
        return b.toString();
    }
}
