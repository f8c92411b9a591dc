package dev.flint.engine.generate;

import java.util.List;

/**
 * Finds stop strings in generated text and tells how much of the text is safe to stream: text that could still turn
 * out to be the start of a stop string is held back until the next tokens decide.
 */
public final class StopMatcher {
    private final List<String> stops;

    public StopMatcher(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Index of the earliest complete stop string in {@code text} at or after {@code from}, or -1. */
    public int find(CharSequence text, int from) {
        // read in place: called on every generated token, a copy of the whole text each time was quadratic
        int best = -1;
        for (String stop : stops) {
            int last = best < 0 ? text.length() - stop.length() : Math.min(best - 1, text.length() - stop.length());
            for (int i = Math.max(0, from - stop.length() + 1); i <= last; i++) {
                if (matches(text, i, stop, stop.length())) {
                    best = i;
                    break;
                }
            }
        }
        return best;
    }

    /** Length of the prefix of {@code text} that cannot be part of a stop string completed by later text. */
    public int safeLength(CharSequence text) {
        int n = text.length();
        int hold = 0;
        for (String stop : stops) {
            for (int k = Math.min(stop.length() - 1, n); k > hold; k--) {
                if (matches(text, n - k, stop, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return n - hold;
    }

    /** Whether {@code text} holds the first {@code k} characters of {@code stop} at {@code at}. */
    private static boolean matches(CharSequence text, int at, String stop, int k) {
        for (int j = 0; j < k; j++) {
            if (text.charAt(at + j) != stop.charAt(j)) {
                return false;
            }
        }
        return true;
    }
}
