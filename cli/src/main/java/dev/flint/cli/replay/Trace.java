package dev.flint.cli.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the replay types: a source file with one range deleted (the starting document) and the deleted text as
 * keystrokes, one per character (a code point; a newline is the Enter key), typed back at the range's start.
 * Positions are 1-based {@code LINE:COL} as editors show them (COL counts characters; the column after a line's last
 * character ends the line); {@code to} is exclusive. Line endings are normalised to {@code \n}, as Vim does with
 * {@code fileformat=dos}.
 */
public record Trace(Path file, String initialDoc, int start, List<String> keys, Position from, Position to) {

    /** A 1-based line and character column. */
    public record Position(int line, int col) {
        public static Position parse(String s, String option) {
            String[] parts = s.trim().split(":");
            if (parts.length != 2) {
                throw new IllegalArgumentException(option + " must be LINE:COL (1-based), got '" + s + "'");
            }
            try {
                int line = Integer.parseInt(parts[0]);
                int col = Integer.parseInt(parts[1]);
                if (line < 1 || col < 1) {
                    throw new IllegalArgumentException(option + " LINE and COL start at 1, got '" + s + "'");
                }
                return new Position(line, col);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " must be LINE:COL (1-based), got '" + s + "'");
            }
        }

        @Override
        public String toString() {
            return line + ":" + col;
        }
    }

    /** Lines in the default range: a few, so the typing crosses line ends (Enter and indentation keys). */
    static final int DEFAULT_LINES = 4;

    /**
     * Loads {@code file}; with {@code from}/{@code to} null, picks the default range: from the first non-blank
     * character of the first non-blank line at or after the middle of the file (else the first one) to the end of the
     * {@value #DEFAULT_LINES}th line from there (fewer at the end of the file).
     */
    public static Trace load(Path file, Position from, Position to, int maxKeys) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--file " + file + " is not a readable file");
        }
        String text = Files.readString(file, StandardCharsets.UTF_8).replace("\r\n", "\n");
        List<Integer> lineStarts = lineStarts(text);
        if ((from == null) != (to == null)) {
            throw new IllegalArgumentException("give both --from and --to, or neither (a default range is chosen)");
        }
        if (from == null) {
            Position[] r = defaultRange(text, lineStarts);
            if (r == null) {
                throw new IllegalArgumentException(file + " has no non-blank line to type");
            }
            from = r[0];
            to = r[1];
        }
        int a = offset(text, lineStarts, from, "--from");
        int b = offset(text, lineStarts, to, "--to");
        if (b <= a) {
            throw new IllegalArgumentException("--to " + to + " must come after --from " + from);
        }
        String typed = text.substring(a, b);
        List<String> keys = new ArrayList<>();
        typed.codePoints().limit(maxKeys > 0 ? maxKeys : Long.MAX_VALUE)
                .forEach(cp -> keys.add(new String(Character.toChars(cp))));
        int typedLength = keys.stream().mapToInt(String::length).sum();
        // Only the typed part is deleted, so a --max-keys cut leaves the rest of the range in place.
        String initial = text.substring(0, a) + text.substring(a + typedLength);
        return new Trace(file, initial, a, List.copyOf(keys), from, to);
    }

    private static List<Integer> lineStarts(String text) {
        List<Integer> starts = new ArrayList<>();
        starts.add(0);
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                starts.add(i + 1);
            }
        }
        return starts;
    }

    private static int offset(String text, List<Integer> lineStarts, Position p, String option) {
        if (p.line() > lineStarts.size()) {
            throw new IllegalArgumentException(option + " " + p + ": the file has " + lineStarts.size() + " lines");
        }
        int lineStart = lineStarts.get(p.line() - 1);
        int lineEnd = p.line() < lineStarts.size() ? lineStarts.get(p.line()) - 1 : text.length();
        String line = text.substring(lineStart, lineEnd);
        int chars = line.codePointCount(0, line.length());
        if (p.col() > chars + 1) {
            throw new IllegalArgumentException(option + " " + p + ": line " + p.line() + " has " + chars
                    + " characters (the last column is " + (chars + 1) + ")");
        }
        return lineStart + line.offsetByCodePoints(0, p.col() - 1);
    }

    /** Where zero-based line {@code l} ends (its newline, or the end of the text). */
    private static int lineEnd(String text, List<Integer> lineStarts, int l) {
        return l + 1 < lineStarts.size() ? lineStarts.get(l + 1) - 1 : text.length();
    }

    private static Position[] defaultRange(String text, List<Integer> lineStarts) {
        // A newline that ends the file does not start another line.
        int n = text.endsWith("\n") ? lineStarts.size() - 1 : lineStarts.size();
        for (int k = 0; k < n; k++) {
            int l = (n / 2 + k) % n; // the middle onwards, then the top of the file
            int s = lineStarts.get(l);
            int e = lineEnd(text, lineStarts, l);
            String line = text.substring(s, e);
            if (!line.isBlank()) {
                int ws = 0;
                while (Character.isWhitespace(line.charAt(ws))) {
                    ws++;
                }
                int last = Math.min(n - 1, l + DEFAULT_LINES - 1);
                while (last > l && text.substring(lineStarts.get(last), lineEnd(text, lineStarts, last)).isEmpty()) {
                    last--; // do not end on an empty line: the range would end on a bare newline
                }
                int le = lineEnd(text, lineStarts, last);
                String lastLine = text.substring(lineStarts.get(last), le);
                return new Position[] {new Position(l + 1, line.codePointCount(0, ws) + 1),
                        new Position(last + 1, lastLine.codePointCount(0, lastLine.length()) + 1)};
            }
        }
        return null;
    }
}
