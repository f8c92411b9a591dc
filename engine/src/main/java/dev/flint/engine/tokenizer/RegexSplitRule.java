package dev.flint.engine.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A split by regular expression, matched the way llama.cpp's std::regex fallback does: every match becomes a
 * segment and so does every gap between matches. A pattern using Unicode categories (\p{L}, \p{N}, \p{P}, \p{M},
 * \p{S}) runs on the collapsed view, where each category is one stand-in char plus the ASCII members llama.cpp lists
 * for it (note: its \p{S} omits '~'); any other pattern runs on the text itself.
 */
final class RegexSplitRule implements SplitRule {
    private final Pattern pattern;
    private final boolean collapsed;

    RegexSplitRule(String llamaPattern) {
        this.collapsed = usesCategories(llamaPattern);
        this.pattern = Pattern.compile(collapsed ? collapse(llamaPattern) : llamaPattern);
    }

    private static boolean usesCategories(String p) {
        for (String cat : new String[] {"\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}"}) {
            if (p.contains(cat)) {
                return true;
            }
        }
        return false;
    }

    /** Rewrites each \p{X} as its stand-in plus ASCII members, bracketed unless already inside a class. */
    static String collapse(String p) {
        StringBuilder sb = new StringBuilder(p.length() + 64);
        boolean inClass = false;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\' && i + 1 < p.length()) {
                if (p.charAt(i + 1) == 'p' && i + 4 < p.length() && p.charAt(i + 2) == '{' && p.charAt(i + 4) == '}') {
                    String members = members(p.charAt(i + 3));
                    if (members != null) {
                        sb.append(inClass ? members : "[" + members + "]");
                        i += 4;
                        continue;
                    }
                }
                sb.append(c).append(p.charAt(++i)); // keep escapes intact so "\[" does not open a class
                continue;
            }
            if (c == '[' && !inClass) {
                inClass = true;
            } else if (c == ']' && inClass) {
                inClass = false;
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static String members(char category) {
        return switch (category) {
            case 'N' -> SplitText.NUMBER + "0-9";
            case 'L' -> SplitText.LETTER + "A-Za-z";
            case 'P' -> SplitText.PUNCTUATION + "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}";
            case 'M' -> String.valueOf(SplitText.MARK);
            case 'S' -> SplitText.SYMBOL + "\\$\\+<->\\^`\\|";
            default -> null;
        };
    }

    @Override
    public void split(SplitText text, IntList segments, IntList out) {
        String view = collapsed ? text.collapsed() : text.wide();
        Matcher m = pattern.matcher(view);
        int start = 0;
        for (int s = 0; s < segments.size(); s++) {
            int len = segments.get(s);
            int end = start + len;
            int from = collapsed ? start : text.wideCharIndex(start);
            int to = collapsed ? end : text.wideCharIndex(end);
            m.region(from, to);
            int done = start;
            while (m.find()) {
                int ms = collapsed ? m.start() : text.wideCpIndex(m.start());
                int me = collapsed ? m.end() : text.wideCpIndex(m.end());
                if (ms > done) {
                    out.add(ms - done);
                }
                out.add(me - ms);
                done = me;
            }
            if (done < end) {
                out.add(end - done);
            }
            start = end;
        }
    }
}
