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
        int best = -1;
        String s = text.toString();
        for (String stop : stops) {
            int i = s.indexOf(stop, Math.max(0, from - stop.length() + 1));
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
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
                if (stop.regionMatches(0, text.toString(), n - k, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return n - hold;
    }
}
