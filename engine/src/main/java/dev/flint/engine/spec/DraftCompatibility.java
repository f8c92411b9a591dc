package dev.flint.engine.spec;

import dev.flint.engine.tokenizer.Vocabulary;

import java.util.Optional;

/**
 * Whether a draft model can draft for a target: token ids pass between the two models unchanged, so every id must
 * mean the same text in both. The intent of llama.cpp's {@code common_speculative_are_compatible}: the same
 * tokenizer model, the same BOS/EOS ids and add-BOS/EOS policy, vocabulary sizes within {@link #MAX_SIZE_DIFFERENCE}
 * (model families pad their vocabularies to different multiples, e.g. Qwen2.5 0.5B and 7B), and the same text for
 * every id both vocabularies have (llama.cpp skips the first five ids; here all are compared, and the special ids
 * must agree too).
 */
public final class DraftCompatibility {
    /** llama.cpp's SPEC_VOCAB_MAX_SIZE_DIFFERENCE. */
    public static final int MAX_SIZE_DIFFERENCE = 128;

    private DraftCompatibility() {
    }

    /** Empty when compatible, else why not, in words a user can act on. */
    public static Optional<String> problem(Vocabulary target, Vocabulary draft) {
        if (target.model() != draft.model()) {
            return Optional.of("the target's tokenizer is " + describe(target.model()) + " but the draft's is "
                    + describe(draft.model()));
        }
        int diff = Math.abs(target.size() - draft.size());
        if (diff > MAX_SIZE_DIFFERENCE) {
            return Optional.of("the target's vocabulary has " + target.size() + " tokens but the draft's has "
                    + draft.size() + " (at most " + MAX_SIZE_DIFFERENCE + " may differ, as padding)");
        }
        if (target.addBos() != draft.addBos() || target.addEos() != draft.addEos()) {
            return Optional.of("the models add BOS/EOS differently (target add_bos " + target.addBos() + ", add_eos "
                    + target.addEos() + "; draft add_bos " + draft.addBos() + ", add_eos " + draft.addEos() + ")");
        }
        Vocabulary.SpecialIds t = target.special();
        Vocabulary.SpecialIds d = draft.special();
        if (t.bos() != d.bos() || t.eos() != d.eos() || t.eot() != d.eot()) {
            return Optional.of("special tokens differ (target BOS " + t.bos() + ", EOS " + t.eos() + ", EOT "
                    + t.eot() + "; draft BOS " + d.bos() + ", EOS " + d.eos() + ", EOT " + d.eot() + ")");
        }
        int common = Math.min(target.size(), draft.size());
        for (int id = 0; id < common; id++) {
            if (!target.token(id).equals(draft.token(id))) {
                return Optional.of("token " + id + " is '" + target.token(id) + "' in the target but '"
                        + draft.token(id) + "' in the draft");
            }
        }
        return Optional.empty();
    }

    private static String describe(Vocabulary.Model m) {
        return m == Vocabulary.Model.SPM ? "SentencePiece (\"llama\")" : "byte-level BPE (\"gpt2\")";
    }
}
