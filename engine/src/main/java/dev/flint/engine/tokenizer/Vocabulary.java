package dev.flint.engine.tokenizer;

import dev.flint.engine.gguf.GgufFile;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;

/**
 * A model's vocabulary as llama.cpp reads it from the {@code tokenizer.ggml.*} metadata: token texts, scores and
 * types, BPE merges, special token ids (from metadata, else recognized by their text) and the add-BOS/EOS policy.
 * Absent special tokens are {@link #NONE}. Immutable and thread-safe.
 */
public final class Vocabulary {
    public static final int NONE = -1;

    /** {@code tokenizer.ggml.model}: "llama" is SentencePiece, "gpt2" byte-level BPE. */
    public enum Model {
        SPM("llama"), BPE("gpt2");

        public final String ggufName;

        Model(String ggufName) {
            this.ggufName = ggufName;
        }
    }

    /** Special token ids; each is {@link #NONE} when the vocabulary has none. */
    public record SpecialIds(int bos, int eos, int eot, int eom, int unk, int sep, int pad, int mask, int newline,
                             int fimPrefix, int fimSuffix, int fimMiddle, int fimPad, int fimRepo, int fimSep) {
    }

    /** Tokenizer behaviour flags, after llama.cpp's per-model defaults and the metadata overrides. */
    public record Flags(boolean addBos, boolean addEos, boolean addSpacePrefix, boolean cleanSpaces,
                        boolean ignoreMerges, boolean removeExtraWhitespaces) {
    }

    private final Model model;
    private final String preName;
    private final String[] tokens;
    private final float[] scores;
    private final int[] attrs;
    private final Map<String, Integer> tokenIds;
    private final BpeMerges merges;
    private final PreTokenizer preTokenizer;
    private final SpecialIds special;
    private final Flags flags;
    private final int[] eog;

    Vocabulary(Model model, String preName, String[] tokens, float[] scores, int[] attrs,
               Map<String, Integer> tokenIds, BpeMerges merges, PreTokenizer preTokenizer, SpecialIds special,
               Flags flags, int[] eog) {
        this.model = model;
        this.preName = preName;
        this.tokens = tokens;
        this.scores = scores;
        this.attrs = attrs;
        this.tokenIds = Collections.unmodifiableMap(tokenIds);
        this.merges = merges;
        this.preTokenizer = preTokenizer;
        this.special = special;
        this.flags = flags;
        this.eog = eog;
    }

    /** Reads the vocabulary; fails with ModelLoadException on an unsupported tokenizer model or pre-tokenizer. */
    public static Vocabulary fromGguf(GgufFile gguf) {
        return VocabularyLoader.load(gguf);
    }

    public Model model() {
        return model;
    }

    /** {@code tokenizer.ggml.pre}, or "default" when absent. */
    public String preName() {
        return preName;
    }

    public int size() {
        return tokens.length;
    }

    /** The token's text as stored (SentencePiece "▁" and byte-level "Ġ" forms included). */
    public String token(int id) {
        return tokens[id];
    }

    public float score(int id) {
        return scores[id];
    }

    /** The effective type: llama.cpp promotes tokens it recognizes as EOT/EOG/FIM to CONTROL. */
    public TokenType type(int id) {
        return TokenAttr.typeOf(attrs[id]);
    }

    /** The id of the token with exactly this text, or {@link #NONE}. */
    public int tokenId(String text) {
        return tokenIds.getOrDefault(text, NONE);
    }

    /** Number of BPE merges (0 for SentencePiece). */
    public int mergeCount() {
        return merges == null ? 0 : merges.count();
    }

    public SpecialIds special() {
        return special;
    }

    public Flags flags() {
        return flags;
    }

    public int bos() {
        return special.bos();
    }

    public int eos() {
        return special.eos();
    }

    public int eot() {
        return special.eot();
    }

    public boolean addBos() {
        return flags.addBos();
    }

    public boolean addEos() {
        return flags.addEos();
    }

    /** True for tokens that end generation: EOS, EOT, EOM, FIM pad/repo/sep and llama.cpp's end-marker texts. */
    public boolean isEog(int id) {
        return Arrays.binarySearch(eog, id) >= 0;
    }

    /** The end-of-generation set, ascending. */
    public int[] eogTokens() {
        return eog.clone();
    }

    public boolean isControl(int id) {
        return (attrs[id] & TokenAttr.CONTROL) != 0;
    }

    int attr(int id) {
        return attrs[id];
    }

    Map<String, Integer> tokenIds() {
        return tokenIds;
    }

    /** The word splitter; null for SentencePiece. */
    PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    /** The merge table; null for SentencePiece. */
    BpeMerges bpeMerges() {
        return merges;
    }
}
