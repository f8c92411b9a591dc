package dev.flint.engine.tokenizer;

import dev.flint.engine.ModelLoadException;
import dev.flint.engine.gguf.GgufFile;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/** Builds a {@link Vocabulary} from GGUF metadata, following the order and defaults of llama_vocab::impl::load. */
final class VocabularyLoader {
    private static final String P = "tokenizer.ggml.";

    // Texts by which llama.cpp recognizes special tokens the metadata does not name, in priority order. It scans a
    // hash map, so where a vocabulary has several candidates its pick is arbitrary; candidate order is ours.
    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>");
    private static final List<String> EOM_TEXTS = List.of("<|eom_id|>");
    // The underscore spellings (StarCoder's) are recognized by later llama.cpp versions, not by c392e5094.
    private static final List<String> FIM_PRE_TEXTS = List.of("<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>",
            "<PRE>", "<fim_prefix>");
    private static final List<String> FIM_SUF_TEXTS = List.of("<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>",
            "<SUF>", "<fim_suffix>");
    private static final List<String> FIM_MID_TEXTS = List.of("<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>",
            "<MID>", "<fim_middle>");
    private static final List<String> FIM_PAD_TEXTS = List.of("<|fim_pad|>", "<fim-pad>", "<PAD>", "<fim_pad>");
    private static final List<String> FIM_REP_TEXTS = List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
            "<REPO>", "<repo_name>");
    private static final List<String> FIM_SEP_TEXTS = List.of("<|file_sep|>", "<file_sep>");
    private static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|eom_id|>", "<EOT>");

    private VocabularyLoader() {
    }

    static Vocabulary load(GgufFile g) {
        String modelName = g.getString(P + "model", null);
        if (modelName == null) {
            throw new ModelLoadException(g.path() + ": no tokenizer (metadata 'tokenizer.ggml.model' is missing)");
        }
        String pre = g.getString(P + "pre", null);
        Vocabulary.Model model = switch (modelName) {
            case "llama" -> Vocabulary.Model.SPM;
            case "gpt2" -> Vocabulary.Model.BPE;
            default -> throw new ModelLoadException(g.path() + ": unsupported tokenizer model '" + modelName
                    + "' (tokenizer.ggml.model); supported: llama (SentencePiece), gpt2 (byte-level BPE)");
        };
        int[] ids = new int[Slot.values().length]; // special ids, indexed by Slot
        Arrays.fill(ids, Vocabulary.NONE);
        boolean addBos;
        boolean addEos = false;
        boolean addSpacePrefix;
        boolean cleanSpaces;
        boolean ignoreMerges = false;
        BpeVariant variant = null;
        if (model == Vocabulary.Model.SPM) {
            ids[Slot.BOS.ordinal()] = 1;
            ids[Slot.EOS.ordinal()] = 2;
            ids[Slot.UNK.ordinal()] = 0;
            addSpacePrefix = true;
            cleanSpaces = false;
            addBos = true;
        } else {
            variant = BpeVariant.forName(pre); // throws on an unknown name, before the expensive parts
            ids[Slot.BOS.ordinal()] = variant.noBos() ? Vocabulary.NONE : 11;
            ids[Slot.EOS.ordinal()] = 11;
            addSpacePrefix = false;
            cleanSpaces = variant.cleanSpaces();
            ignoreMerges = variant.ignoreMerges();
            addBos = variant.addBos();
        }
        addSpacePrefix = g.getBoolean(P + "add_space_prefix", addSpacePrefix);
        boolean removeExtraWhitespaces = g.getBoolean(P + "remove_extra_whitespaces", false);

        String[] tokens = g.getStringArray(P + "tokens");
        if (tokens == null) {
            throw new ModelLoadException(g.path() + ": cannot find tokenizer vocab (tokenizer.ggml.tokens)");
        }
        int n = tokens.length;
        tokens = tokens.clone();
        float[] scores = g.getFloatArray(P + "scores");
        int[] types = g.getIntArray(P + "token_type");
        if ((scores != null && scores.length != n) || (types != null && types.length != n)) {
            throw new ModelLoadException(g.path() + ": tokenizer scores/token types do not match the " + n + " tokens");
        }
        scores = scores == null ? new float[n] : scores;
        Map<String, Integer> tokenIds = new HashMap<>(n * 2);
        int[] attrs = new int[n];
        for (int i = 0; i < n; i++) {
            if (tokens[i].isEmpty()) {
                tokens[i] = "[EMPTY_" + i + "]";
            }
            tokenIds.put(tokens[i], i);
            attrs[i] = types == null ? TokenAttr.NORMAL : TokenAttr.ofType(TokenType.ofCode(types[i]));
        }

        BpeMerges merges = null;
        if (model == Vocabulary.Model.BPE) {
            String[] m = g.getStringArray(P + "merges");
            if (m == null) {
                throw new ModelLoadException(g.path() + ": cannot find tokenizer merges (tokenizer.ggml.merges)");
            }
            merges = new BpeMerges(m, tokenIds, n);
        }

        // the newline token is settled before the metadata ids are read, with the defaults still in place
        if (model == Vocabulary.Model.SPM) {
            int nl = tokenIds.getOrDefault("<0x0A>", tokenIds.getOrDefault("\n", Vocabulary.NONE));
            ids[Slot.NEWLINE.ordinal()] = nl != Vocabulary.NONE ? nl : ids[Slot.PAD.ordinal()];
        } else {
            IntList nl = new IntList(2);
            new BpeEncoder(tokenIds, merges, variant.preTokenizer(), ignoreMerges).encode(new byte[] {'\n'}, 0, 1, nl);
            ids[Slot.NEWLINE.ordinal()] = nl.size() > 0 ? nl.get(0) : ids[Slot.PAD.ordinal()];
        }

        for (Slot slot : Slot.values()) {
            for (String key : slot.keys) {
                long v = g.getLong(P + key, -1);
                if (v >= 0 && v < n) {
                    ids[slot.ordinal()] = (int) v; // out-of-range ids (e.g. u32 -1) keep the default, as in llama.cpp
                }
            }
        }
        addBos = g.getBoolean(P + "add_bos_token", addBos);
        addEos = g.getBoolean(P + "add_eos_token", addEos);

        detect(ids, Slot.EOT, EOT_TEXTS, tokenIds, attrs);
        detect(ids, Slot.EOM, EOM_TEXTS, tokenIds, attrs);
        detect(ids, Slot.FIM_PRE, FIM_PRE_TEXTS, tokenIds, attrs);
        detect(ids, Slot.FIM_SUF, FIM_SUF_TEXTS, tokenIds, attrs);
        detect(ids, Slot.FIM_MID, FIM_MID_TEXTS, tokenIds, attrs);
        detect(ids, Slot.FIM_PAD, FIM_PAD_TEXTS, tokenIds, attrs);
        detect(ids, Slot.FIM_REP, FIM_REP_TEXTS, tokenIds, attrs);
        detect(ids, Slot.FIM_SEP, FIM_SEP_TEXTS, tokenIds, attrs);
        int[] eog = endOfGeneration(ids, tokenIds, attrs);

        applyModelSpecificAttrs(g.getString("general.name", ""), pre == null ? "" : pre, tokenIds, attrs);

        Vocabulary.SpecialIds special = new Vocabulary.SpecialIds(ids[Slot.BOS.ordinal()], ids[Slot.EOS.ordinal()],
                ids[Slot.EOT.ordinal()], ids[Slot.EOM.ordinal()], ids[Slot.UNK.ordinal()], ids[Slot.SEP.ordinal()],
                ids[Slot.PAD.ordinal()], ids[Slot.MASK.ordinal()], ids[Slot.NEWLINE.ordinal()],
                ids[Slot.FIM_PRE.ordinal()], ids[Slot.FIM_SUF.ordinal()], ids[Slot.FIM_MID.ordinal()],
                ids[Slot.FIM_PAD.ordinal()], ids[Slot.FIM_REP.ordinal()], ids[Slot.FIM_SEP.ordinal()]);
        Vocabulary.Flags flags = new Vocabulary.Flags(addBos, addEos, addSpacePrefix, cleanSpaces, ignoreMerges,
                removeExtraWhitespaces);
        return new Vocabulary(model, pre == null || pre.isEmpty() ? "default" : pre, tokens, scores, attrs, tokenIds,
                merges, variant == null ? null : variant.preTokenizer(), special, flags, eog);
    }

    /** Special-id slots and their metadata keys (later keys override earlier ones, like the deprecated FIM names). */
    private enum Slot {
        BOS("bos_token_id"), EOS("eos_token_id"), EOT("eot_token_id"), EOM("eom_token_id"), UNK("unknown_token_id"),
        SEP("seperator_token_id"), PAD("padding_token_id"), MASK("mask_token_id"), NEWLINE(),
        FIM_PRE("fim_pre_token_id", "prefix_token_id"), FIM_SUF("fim_suf_token_id", "suffix_token_id"),
        FIM_MID("fim_mid_token_id", "middle_token_id"), FIM_PAD("fim_pad_token_id"), FIM_REP("fim_rep_token_id"),
        FIM_SEP("fim_sep_token_id");

        final String[] keys;

        Slot(String... keys) {
            this.keys = keys;
        }
    }

    /** Fills an unset slot with the first candidate text present, which becomes a control token. */
    private static void detect(int[] ids, Slot slot, List<String> texts, Map<String, Integer> tokenIds, int[] attrs) {
        if (ids[slot.ordinal()] != Vocabulary.NONE) {
            return;
        }
        for (String text : texts) {
            Integer id = tokenIds.get(text);
            if (id != null) {
                ids[slot.ordinal()] = id;
                attrs[id] = TokenAttr.CONTROL;
                return;
            }
        }
    }

    private static int[] endOfGeneration(int[] ids, Map<String, Integer> tokenIds, int[] attrs) {
        TreeSet<Integer> eog = new TreeSet<>();
        for (Slot s : new Slot[] {Slot.FIM_PAD, Slot.FIM_REP, Slot.FIM_SEP, Slot.EOS, Slot.EOT, Slot.EOM}) {
            if (ids[s.ordinal()] != Vocabulary.NONE) {
                eog.add(ids[s.ordinal()]);
            }
        }
        for (String text : EOG_TEXTS) {
            Integer id = tokenIds.get(text);
            if (id != null) {
                eog.add(id);
                attrs[id] = TokenAttr.CONTROL;
            }
        }
        return eog.stream().mapToInt(Integer::intValue).toArray();
    }

    /** llama.cpp's per-model strip flags, keyed on the model name and pre-tokenizer (not stored in GGUF). */
    private static void applyModelSpecificAttrs(String name, String pre, Map<String, Integer> tokenIds, int[] attrs) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (pre.contains("jina-v2-de") || pre.contains("jina-v2-es") || pre.contains("jina-v2-code")) {
            setAttr(tokenIds.get("<mask>"), TokenAttr.LSTRIP, true, attrs);
        } else if (lower.contains("phi-3") || lower.contains("phi3")) {
            List<Integer> specials = new ArrayList<>();
            for (int id = 0; id < attrs.length; id++) {
                if ((attrs[id] & (TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN)) != 0) {
                    specials.add(id);
                }
            }
            specials.forEach(id -> setAttr(id, TokenAttr.RSTRIP, true, attrs));
            setAttr(tokenIds.get("</s>"), TokenAttr.RSTRIP, true, attrs);
            for (String t : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
                setAttr(tokenIds.get(t), TokenAttr.RSTRIP, false, attrs);
            }
        }
    }

    private static void setAttr(Integer id, int bit, boolean on, int[] attrs) {
        if (id != null) {
            attrs[id] = on ? attrs[id] | bit : attrs[id] & ~bit;
        }
    }
}
