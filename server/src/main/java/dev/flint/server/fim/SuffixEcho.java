package dev.flint.server.fim;

import java.util.Optional;

/**
 * Stops a fill-in-the-middle completion where it starts writing the code that already follows the cursor: models
 * often finish the gap and then carry on with the next existing line, which the editor would show twice. The stop
 * string is a line break followed by the first non-blank line after the cursor's line (indentation included), so the
 * completion ends at the end of the line before it; as a stop string it is held back while it could still match and
 * never streamed.
 */
public final class SuffixEcho {
    private static final int MAX_LINE = 256; // longer lines are not worth holding text back for

    private SuffixEcho() {
    }

    /** The stop string for {@code suffix} (the text after the cursor), or empty when the suffix has no such line. */
    public static Optional<String> stopFor(String suffix) {
        int nl = suffix.indexOf('\n');
        while (nl >= 0) {
            int end = suffix.indexOf('\n', nl + 1);
            String line = suffix.substring(nl + 1, end < 0 ? suffix.length() : end).stripTrailing();
            if (!line.isBlank()) {
                return line.length() <= MAX_LINE ? Optional.of("\n" + line) : Optional.empty();
            }
            nl = end;
        }
        return Optional.empty();
    }
}
