package dev.flint.engine.spec;

import dev.flint.engine.Fixtures;
import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.tokenizer.Vocabulary;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Which vocabularies may pass token ids to each other (the vocabularies of llama.cpp's vocab-only files). */
class DraftCompatibilityTest {
    static Vocabulary vocab(Path p) throws Exception {
        try (GgufFile f = GgufFile.open(p)) {
            return Vocabulary.fromGguf(f);
        }
    }

    @Test
    void aModelsVocabularyIsCompatibleWithTheSameVocabularyInAnotherFile() throws Exception {
        Vocabulary model = vocab(Fixtures.model("tiny-qwen2-F16.gguf"));
        Vocabulary vocabOnly = vocab(Fixtures.vocab("ggml-vocab-deepseek-coder.gguf"));
        assertEquals(Optional.empty(), DraftCompatibility.problem(model, vocabOnly));
    }

    @Test
    void byteLevelVocabulariesOfDifferentSizesAreNot() throws Exception {
        Optional<String> p = DraftCompatibility.problem(vocab(Fixtures.vocab("ggml-vocab-deepseek-coder.gguf")),
                vocab(Fixtures.vocab("ggml-vocab-qwen2.gguf")));
        assertTrue(p.orElseThrow().contains("151936"), p.get());
    }

    @Test
    void otherByteLevelVocabulariesAreNot() throws Exception {
        Vocabulary gpt2 = vocab(Fixtures.vocab("ggml-vocab-gpt-2.gguf"));
        Vocabulary starcoder = vocab(Fixtures.vocab("ggml-vocab-starcoder.gguf"));
        assertTrue(DraftCompatibility.problem(gpt2, starcoder).isPresent());
        assertTrue(DraftCompatibility.problem(starcoder, gpt2).isPresent());
    }

    @Test
    void sentencePieceAndByteLevelBpeAreNot() throws Exception {
        Optional<String> p = DraftCompatibility.problem(vocab(Fixtures.vocab("ggml-vocab-llama-spm.gguf")),
                vocab(Fixtures.vocab("ggml-vocab-deepseek-coder.gguf")));
        assertTrue(p.orElseThrow().contains("SentencePiece"), p.get());
    }
}
