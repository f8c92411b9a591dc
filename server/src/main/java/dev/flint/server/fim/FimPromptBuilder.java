package dev.flint.server.fim;

import dev.flint.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Lays out a fill-in-the-middle prompt as llama.cpp's {@code format_infill} does, so the slowly changing material
 * comes first and keystrokes only change the tail (which keeps the slot's cached prefix):
 * <pre>
 * [FIM_REP]myproject\n [FIM_SEP]file0\n chunk0 ... [FIM_SEP]filename\n [BOS?] FIM_PRE prefix prompt FIM_SUF suffix FIM_MID
 * </pre>
 * Without repo/separator tokens each chunk is introduced by a textual {@code --- snippet ---} line. At most
 * {@code 3/4 · nBatch} prefix tokens (the end of the prefix) and {@code nBatch/4 − 2 − |prompt|} suffix tokens (its
 * start) are kept; extra chunks fill {@code nCtx − nBatch − 2·nPredict} tokens, newest last. Suffix-first families
 * put the suffix part before the prefix part.
 */
public final class FimPromptBuilder {
    /** One extra context chunk (another file, a yanked region). */
    public record Chunk(String filename, String text) {
    }

    private final Tokenizer tokenizer;
    private final FimTokens fim;

    public FimPromptBuilder(Tokenizer tokenizer, FimTokens fim) {
        this.tokenizer = tokenizer;
        this.fim = fim;
    }

    public FimTokens tokens() {
        return fim;
    }

    public int[] build(String prefix, String suffix, List<Chunk> extra, String prompt, int nBatch, int nPredict,
                       int nCtx) {
        int[] pre = encode(prefix);
        int[] suf = encode(suffix);
        int[] mid = encode(prompt);
        List<Integer> extraTokens = new ArrayList<>();
        if (fim.repo() >= 0) {
            extraTokens.add(fim.repo());
            addAll(extraTokens, encode("myproject\n"));
        }
        for (Chunk c : extra) {
            if (fim.fileSep() >= 0) {
                extraTokens.add(fim.fileSep());
                addAll(extraTokens, encode((c.filename() == null ? "tmp" : c.filename()) + "\n"));
            } else {
                addAll(extraTokens, encode("\n\n--- snippet ---\n\n"));
            }
            addAll(extraTokens, encode(c.text() == null ? "" : c.text()));
        }
        if (fim.fileSep() >= 0) {
            extraTokens.add(fim.fileSep());
            addAll(extraTokens, encode("filename\n"));
        }
        int prefixTake = Math.min(pre.length, 3 * (nBatch / 4));
        int suffixTake = Math.min(suf.length, Math.max(0, nBatch / 4 - (2 + mid.length)));
        int extraTake = Math.min(Math.max(0, nCtx - nBatch - 2 * nPredict), extraTokens.size());

        List<Integer> prefixPart = new ArrayList<>();
        prefixPart.add(fim.prefix());
        for (int i = pre.length - prefixTake; i < pre.length; i++) {
            prefixPart.add(pre[i]);
        }
        addAll(prefixPart, mid);
        List<Integer> suffixPart = new ArrayList<>();
        suffixPart.add(fim.suffix());
        for (int i = 0; i < suffixTake; i++) {
            suffixPart.add(suf[i]);
        }
        List<Integer> out = new ArrayList<>(extraTokens.subList(extraTokens.size() - extraTake, extraTokens.size()));
        if (tokenizer.vocabulary().addBos() && tokenizer.vocabulary().bos() >= 0) {
            out.add(tokenizer.vocabulary().bos());
        }
        out.addAll(fim.suffixFirst() ? suffixPart : prefixPart);
        out.addAll(fim.suffixFirst() ? prefixPart : suffixPart);
        out.add(fim.middle());
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private int[] encode(String text) {
        return text == null || text.isEmpty() ? new int[0] : tokenizer.encode(text, false, false);
    }

    private static void addAll(List<Integer> list, int[] tokens) {
        for (int t : tokens) {
            list.add(t);
        }
    }
}
