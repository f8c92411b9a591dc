package dev.flint.cli.replay;

/**
 * The cursor context llama.vim sends (its {@code s:fim_ctx_local} with no pending suggestion): {@code prefix} = up
 * to {@code nPrefix} whole lines before the cursor line, each ended by a newline; {@code middle} = the cursor line up
 * to the cursor; {@code suffix} = the rest of the cursor line, a newline, up to {@code nSuffix} following lines
 * joined by newlines, and a final newline. A line of only whitespace is sent as empty with indent 0; otherwise
 * {@code indent} is the line's leading whitespace (for {@code n_indent}).
 */
public record LocalContext(String prefix, String middle, String suffix, int indent) {

    public static LocalContext at(String doc, int cursor, int nPrefix, int nSuffix) {
        int lineStart = doc.lastIndexOf('\n', cursor - 1) + 1;
        int lineEnd = doc.indexOf('\n', cursor);
        if (lineEnd < 0) {
            lineEnd = doc.length();
        }
        String line = doc.substring(lineStart, lineEnd);
        String curPrefix = doc.substring(lineStart, cursor);
        String curSuffix = doc.substring(cursor, lineEnd);
        int indent;
        if (line.isBlank()) {
            indent = 0;
            curPrefix = "";
            curSuffix = "";
        } else {
            indent = 0;
            while (indent < line.length() && (line.charAt(indent) == ' ' || line.charAt(indent) == '\t')) {
                indent++;
            }
        }
        // getline(max(1, y - n_prefix), y - 1): walk back nPrefix line starts from the cursor line.
        int from = lineStart;
        for (int i = 0; i < nPrefix && from > 0; i++) {
            from = doc.lastIndexOf('\n', from - 2) + 1;
        }
        String before = from == lineStart ? "" : doc.substring(from, lineStart - 1);
        // getline(y + 1, min(max_y, y + n_suffix)); a newline that ends the file does not start another line
        int docEnd = doc.endsWith("\n") ? doc.length() - 1 : doc.length();
        String after = "";
        if (lineEnd < docEnd) {
            int to = lineEnd;
            for (int i = 0; i < nSuffix && to < docEnd; i++) {
                int next = doc.indexOf('\n', to + 1);
                to = next < 0 || next > docEnd ? docEnd : next;
            }
            after = to == lineEnd ? "" : doc.substring(lineEnd + 1, to);
        }
        return new LocalContext(before + "\n", curPrefix, curSuffix + "\n" + after + "\n", indent);
    }
}
