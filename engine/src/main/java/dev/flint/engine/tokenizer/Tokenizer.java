package dev.flint.engine.tokenizer;

import dev.flint.engine.gguf.GgufFile;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Text to token ids and back, exactly as llama.cpp (c392e5094) does it for SentencePiece ("llama") and byte-level
 * BPE ("gpt2") vocabularies. Immutable and thread-safe: each call uses its own scratch buffers.
 */
public final class Tokenizer {
    private static final byte[] EMPTY = new byte[0];
    private static final byte[] ESCAPED_SPACE = "\u2581".getBytes(StandardCharsets.UTF_8);

    private final Vocabulary vocab;
    private final SpecialTokenSplitter specials;
    private final byte[][] pieces;
    // SentencePiece tables (null for BPE)
    private final TokenIndex spmIndex;
    private final float[] spmScores;
    private final int[] spmByteTokens;

    private Tokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.specials = new SpecialTokenSplitter(vocab);
        this.pieces = Pieces.build(vocab);
        if (vocab.model() == Vocabulary.Model.SPM) {
            byte[][] texts = new byte[vocab.size()][];
            float[] scores = new float[vocab.size()];
            for (int id = 0; id < vocab.size(); id++) {
                texts[id] = vocab.token(id).getBytes(StandardCharsets.UTF_8);
                scores[id] = vocab.score(id);
            }
            spmIndex = new TokenIndex(texts);
            spmScores = scores;
            spmByteTokens = new int[256];
            for (int b = 0; b < 256; b++) {
                spmByteTokens[b] = byteToken(vocab, b);
            }
        } else {
            spmIndex = null;
            spmScores = null;
            spmByteTokens = null;
        }
    }

    /** {@code <0xXX>}, else the byte as a one-character token, else UNK (where llama.cpp would abort). */
    private static int byteToken(Vocabulary v, int b) {
        int id = v.tokenId(String.format("<0x%02X>", b));
        if (id == Vocabulary.NONE && b < 0x80) {
            id = v.tokenId(String.valueOf((char) b));
        }
        return id != Vocabulary.NONE ? id : v.special().unk();
    }

    public static Tokenizer fromGguf(GgufFile gguf) {
        return new Tokenizer(Vocabulary.fromGguf(gguf));
    }

    public static Tokenizer of(Vocabulary vocab) {
        return new Tokenizer(vocab);
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    /**
     * Tokenizes {@code text} (llama_tokenize).
     *
     * @param addSpecial   add BOS/EOS where the vocabulary's add_bos/add_eos say so
     * @param parseSpecial treat the text of control tokens in the input as those tokens (user-defined tokens are
     *                     always recognized)
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        return encodeUtf8(text.getBytes(StandardCharsets.UTF_8), addSpecial, parseSpecial);
    }

    /** As {@link #encode(String, boolean, boolean)}, for UTF-8 bytes; malformed bytes are handled like llama.cpp. */
    public int[] encodeUtf8(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        List<SpecialTokenSplitter.Fragment> fragments = specials.split(utf8, parseSpecial);
        IntList out = new IntList(utf8.length / 3 + 4);
        if (addSpecial && vocab.addBos() && vocab.bos() != Vocabulary.NONE) {
            out.add(vocab.bos());
        }
        if (vocab.model() == Vocabulary.Model.SPM) {
            encodeSpm(utf8, fragments, out);
        } else {
            BpeEncoder bpe = new BpeEncoder(vocab.tokenIds(), vocab.bpeMerges(), vocab.preTokenizer(),
                    vocab.flags().ignoreMerges());
            for (SpecialTokenSplitter.Fragment f : fragments) {
                if (f.isText()) {
                    bpe.encode(utf8, f.offset(), f.offset() + f.length(), out);
                } else {
                    out.add(f.token());
                }
            }
        }
        if (addSpecial && vocab.addEos() && vocab.eos() != Vocabulary.NONE) {
            out.add(vocab.eos());
        }
        return out.toArray();
    }

    /** Text after a special token (or at the start) gets the space prefix; spaces become "▁". */
    private void encodeSpm(byte[] utf8, List<SpecialTokenSplitter.Fragment> fragments, IntList out) {
        SpmEncoder spm = new SpmEncoder(spmIndex, spmScores, spmByteTokens);
        boolean afterSpecial = true;
        byte[] buf = EMPTY;
        for (SpecialTokenSplitter.Fragment f : fragments) {
            if (!f.isText()) {
                out.add(f.token());
                afterSpecial = true;
                continue;
            }
            boolean prefix = vocab.flags().addSpacePrefix() && afterSpecial;
            int max = (f.length() + 1) * ESCAPED_SPACE.length;
            if (buf.length < max) {
                buf = new byte[max];
            }
            int len = 0;
            if (prefix) {
                len = appendEscapedSpace(buf, len);
            }
            for (int i = f.offset(); i < f.offset() + f.length(); i++) {
                if (utf8[i] == ' ') {
                    len = appendEscapedSpace(buf, len);
                } else {
                    buf[len++] = utf8[i];
                }
            }
            spm.encode(buf, len, out);
            afterSpecial = false;
        }
    }

    private static int appendEscapedSpace(byte[] buf, int len) {
        System.arraycopy(ESCAPED_SPACE, 0, buf, len, ESCAPED_SPACE.length);
        return len + ESCAPED_SPACE.length;
    }

    /** The bytes of one token as llama_token_to_piece(special=false) gives them: control and unknown tokens are empty. */
    public byte[] tokenBytes(int id) {
        return tokenBytes(id, false);
    }

    /** As {@link #tokenBytes(int)}; with {@code special}, control and unknown tokens render as their text. */
    public byte[] tokenBytes(int id, boolean special) {
        return piece(id, special).clone();
    }

    /** The shared piece array; callers must not modify it. */
    byte[] piece(int id, boolean special) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + pieces.length);
        }
        if (!special && (vocab.attr(id) & (TokenAttr.UNKNOWN | TokenAttr.CONTROL)) != 0) {
            return EMPTY;
        }
        return pieces[id];
    }

    /** Text of the tokens with control tokens omitted: {@code decode(ids, false, false)}. */
    public String decode(int[] ids) {
        return decode(ids, false, false);
    }

    /** llama_detokenize as a String; bytes that are not valid UTF-8 become U+FFFD. */
    public String decode(int[] ids, boolean removeSpecial, boolean renderSpecial) {
        return new String(decodeBytes(ids, removeSpecial, renderSpecial), StandardCharsets.UTF_8);
    }

    /**
     * llama_detokenize: concatenates the pieces; with a space prefix vocabulary the first token loses one leading
     * space (unless {@code removeSpecial} dropped a leading BOS: then llama.cpp keeps it); BPE vocabularies with
     * clean_spaces get their spaces cleaned up.
     *
     * @param removeSpecial drop a leading BOS and trailing EOS where the vocabulary adds them
     * @param renderSpecial render control and unknown tokens as their text
     */
    public byte[] decodeBytes(int[] ids, boolean removeSpecial, boolean renderSpecial) {
        int from = 0;
        int to = ids.length;
        boolean stripSpace = vocab.flags().addSpacePrefix();
        if (removeSpecial && vocab.addBos() && to > 0 && ids[0] == vocab.bos()) {
            stripSpace = false;
            from++;
        }
        if (removeSpecial && vocab.addEos() && to > from && ids[to - 1] == vocab.eos()) {
            to--;
        }
        byte[] out = new byte[64];
        int len = 0;
        for (int i = from; i < to; i++) {
            byte[] piece = piece(ids[i], renderSpecial);
            int skip = stripSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            stripSpace = false;
            if (len + piece.length > out.length) {
                out = Arrays.copyOf(out, Math.max(out.length * 2, len + piece.length));
            }
            System.arraycopy(piece, skip, out, len, piece.length - skip);
            len += piece.length - skip;
        }
        if (vocab.flags().cleanSpaces()) {
            len = Pieces.cleanSpaces(out, len);
        }
        return Arrays.copyOf(out, len);
    }

    /** A streaming decoder for generated tokens; control tokens are omitted. */
    public Detokenizer detokenizer() {
        return new Detokenizer(this, false);
    }

    /** A streaming decoder; with {@code renderSpecial}, control tokens render as their text. */
    public Detokenizer detokenizer(boolean renderSpecial) {
        return new Detokenizer(this, renderSpecial);
    }
}
