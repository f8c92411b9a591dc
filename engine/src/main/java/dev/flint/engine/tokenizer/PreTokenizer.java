package dev.flint.engine.tokenizer;

import java.util.List;

/**
 * How a byte-level BPE vocabulary cuts text into words before merging, selected by {@code tokenizer.ggml.pre}. The
 * rule lists are the ones llama.cpp applies (originally each model's tokenizer.json pattern, sometimes split in
 * steps); every rule refines the segments left by the one before.
 */
enum PreTokenizer {
    DEFAULT(regex("[\\p{P}\\$\\+<=>\\^~\\|]+"), Rules.GPT2, regex("\\p{N}+"), regex("[0-9][0-9][0-9]")),
    LLAMA3(Rules.LLAMA3),
    DEEPSEEK_LLM(regex("[\r\n]"),
            regex("\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF"
                    + "\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5"
                    + "\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA"
                    + "\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45"
                    + "\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-"
                    + "\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107"
                    + "\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F"
                    + "\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D"
                    + "\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17"
                    + "\uFF21-\uFF3A\uFF41-\uFF5A\uD801\uDC00-\uD801\uDC4F\uD801\uDCB0-\uD801\uDCD3\uD801\uDCD8-\uD801"
                    + "\uDCFB\uD803\uDC80-\uD803\uDCB2\uD803\uDCC0-\uD803\uDCF2\uD806\uDCA0-\uD806\uDCDF\uD83A\uDD00-"
                    + "\uD83A\uDD43]+"),
            regex("\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+"),
            regex("\\s+\\z"), // ECMAScript's $ is the end of input only; Java's would also match before a final newline
            regex("[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+"),
            regex("\\p{N}+")),
    DEEPSEEK3_LLM(regex("\\p{N}{1,3}"),
            regex("[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+"),
            regex("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
                    + "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+")),
    DEEPSEEK_CODER(regex("[\r\n]"), regex("\\s?\\p{L}+"), regex("\\s?\\p{P}+"), regex("[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+"),
            regex("\\p{N}")),
    FALCON(regex("[\\p{P}\\$\\+<=>\\^~\\|`]+"), Rules.GPT2, regex("[0-9][0-9][0-9]")),
    STARCODER(regex("\\p{N}"), Rules.GPT2),
    GPT2(Rules.GPT2),
    /** Not llama3's custom splitter: \p{N} matches one digit, so llama.cpp runs it as a regex. */
    QWEN2(regex("(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")),
    BLOOM(regex(" ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+")),
    VIKING(regex(" ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+"), regex("\\p{N}")),
    TEKKEN(regex("[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
            + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")),
    CHAMELEON(regex("<sentinel:[0-9]+>"), regex("(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z"), regex("([\\t\\n]|    |  )"),
            regex("\\p{N}"), regex("[\\p{P}!-/:-@\\[-`{-~]"), Rules.GPT2);

    private final List<SplitRule> rules;

    PreTokenizer(SplitRule... rules) {
        this.rules = List.of(rules);
    }

    private static SplitRule regex(String pattern) {
        return new RegexSplitRule(pattern);
    }

    /** Splits {@code cps[0, n)} into words; returns their lengths in code points. */
    IntList split(int[] cps, int n) {
        SplitText text = new SplitText(cps, n);
        IntList segments = new IntList(4);
        segments.add(n);
        for (SplitRule rule : rules) {
            IntList next = new IntList(segments.size() + n / 4);
            rule.split(text, segments, next);
            segments = next;
        }
        return segments;
    }

    /** Shared, stateless rule instances (an enum's constructor cannot read its own static fields). */
    private static final class Rules {
        static final SplitRule GPT2 = new Gpt2SplitRule();
        static final SplitRule LLAMA3 = new Llama3SplitRule();
    }
}
