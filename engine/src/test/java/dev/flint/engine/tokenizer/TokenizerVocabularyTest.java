package dev.flint.engine.tokenizer;

import dev.flint.engine.ModelLoadException;
import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Special ids, flags and the end-of-generation set agree with what llama.cpp derives from the same metadata. */
class TokenizerVocabularyTest {
    static Vocabulary vocab(String name) {
        return TokenizerFixtures.vocab(name).vocabulary();
    }

    @Test
    void qwen2FindsFimAndEndTokensByTheirText() {
        Vocabulary v = vocab("qwen2");
        assertEquals(Vocabulary.Model.BPE, v.model());
        assertEquals("qwen2", v.preName());
        assertEquals(151936, v.size());
        Vocabulary.SpecialIds s = v.special();
        assertEquals(151643, s.bos());
        assertEquals(151643, s.eos());
        assertEquals(151645, s.eot()); // <|im_end|>
        assertEquals(151659, s.fimPrefix());
        assertEquals(151661, s.fimSuffix());
        assertEquals(151660, s.fimMiddle());
        assertEquals(151662, s.fimPad());
        assertEquals(151663, s.fimRepo());
        assertEquals(151664, s.fimSep());
        assertEquals(198, s.newline());
        assertFalse(v.addBos());
        assertArrayEquals(new int[] {151643, 151645, 151662, 151663, 151664}, v.eogTokens());
        // recognized FIM tokens are promoted from user-defined to control, as llama.cpp does
        assertEquals(TokenType.CONTROL, v.type(151659));
    }

    @Test
    void deepseekCoderUsesItsOwnFimSpelling() {
        Vocabulary v = vocab("deepseek-coder");
        assertEquals(32013, v.bos());
        assertEquals(32014, v.eos());
        assertEquals(32014, v.eot());
        assertEquals(32016, v.special().fimPrefix());
        assertEquals(32015, v.special().fimSuffix());
        assertEquals(32017, v.special().fimMiddle());
        assertEquals(185, v.special().newline());
        assertTrue(v.addBos());
        assertArrayEquals(new int[] {32014}, v.eogTokens());
    }

    @Test
    void sentencePieceDefaultsAddBosAndASpacePrefix() {
        Vocabulary v = vocab("llama-spm");
        assertEquals(Vocabulary.Model.SPM, v.model());
        assertEquals(1, v.bos());
        assertEquals(2, v.eos());
        assertEquals(0, v.special().unk());
        assertEquals(Vocabulary.NONE, v.eot());
        assertTrue(v.addBos());
        assertFalse(v.addEos());
        assertTrue(v.flags().addSpacePrefix());
        assertArrayEquals(new int[] {2}, v.eogTokens());
    }

    @Test
    void gpt2AndStarcoderEndWithEndOfText() {
        Vocabulary g = vocab("gpt-2");
        assertEquals(50256, g.bos());
        assertEquals(50256, g.eot());
        assertFalse(g.addBos());
        Vocabulary s = vocab("starcoder");
        assertEquals(0, s.eot());
        assertEquals(222, s.special().newline());
        // StarCoder's <fim_*> spelling: recognized here (as later llama.cpp versions do), not by c392e5094
        assertEquals(1, s.special().fimPrefix());
        assertEquals(3, s.special().fimSuffix());
        assertEquals(2, s.special().fimMiddle());
        assertArrayEquals(new int[] {0, 4, 5, 6}, s.eogTokens());
    }

    @Test
    void anOutOfRangeSpecialIdInMetadataKeepsTheDefault() throws Exception {
        // stories260K stores seperator/padding ids as u32 -1
        Path p = TokenizerFixtures.root().resolve("models/stories260K-F32.gguf");
        try (GgufFile f = GgufFile.open(p)) {
            Vocabulary v = Vocabulary.fromGguf(f);
            assertEquals(512, v.size());
            assertEquals(Vocabulary.NONE, v.special().sep());
            assertEquals(Vocabulary.NONE, v.special().pad());
        }
    }

    @Test
    void anUnknownPreTokenizerFailsNamingTheValueAndTheSupportedOnes(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad-pre.gguf");
        try (GgufFile src = GgufFile.open(TokenizerFixtures.vocabFile("gpt-2"))) {
            new GgufWriter().copyMetadata(src, k -> k.equals("tokenizer.ggml.pre"))
                    .putString("tokenizer.ggml.pre", "no-such-pre").write(bad);
        }
        try (GgufFile f = GgufFile.open(bad)) {
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> Tokenizer.fromGguf(f));
            assertTrue(e.getMessage().contains("'no-such-pre'"), e.getMessage());
            assertTrue(e.getMessage().contains("qwen2") && e.getMessage().contains("deepseek-coder"), e.getMessage());
        }
    }

    @Test
    void anUnsupportedTokenizerModelFailsNamingIt(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad-model.gguf");
        try (GgufFile src = GgufFile.open(TokenizerFixtures.vocabFile("gpt-2"))) {
            new GgufWriter().copyMetadata(src, k -> k.equals("tokenizer.ggml.model"))
                    .putString("tokenizer.ggml.model", "t5").write(bad);
        }
        try (GgufFile f = GgufFile.open(bad)) {
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> Vocabulary.fromGguf(f));
            assertTrue(e.getMessage().contains("'t5'") && e.getMessage().contains("gpt2"), e.getMessage());
        }
    }
}
