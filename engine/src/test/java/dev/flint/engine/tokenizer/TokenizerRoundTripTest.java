package dev.flint.engine.tokenizer;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoding inverts encoding the way llama_detokenize does. Pieces always concatenate back to the input bytes; decode
 * also strips the SentencePiece space prefix and, for BPE vocabularies with clean_spaces (gpt-2, starcoder), tidies
 * spaces before punctuation, so only there does the round trip change the text. SentencePiece also cannot tell a
 * "▁" typed in the input from an escaped space: both come back as a space.
 */
class TokenizerRoundTripTest {
    static List<String> texts(String vocab) {
        List<String> all = new ArrayList<>();
        TokenizerFixtures.cases(vocab).forEach(c -> all.add(c.input()));
        Path corpus = TokenizerFixtures.root().resolve("tokenizer-corpus");
        all.add(TokenizerFixtures.read(corpus.resolve("sample.py")));
        all.add(TokenizerFixtures.read(corpus.resolve("sample.rs")));
        for (String p : new String[] {"code-java.txt", "code-python.txt", "fim-deepseek.txt", "fim-starcoder.txt"}) {
            all.add(TokenizerFixtures.read(TokenizerFixtures.root().resolve("prompts/" + p)));
        }
        return all;
    }

    static String spm(String text) {
        return text.replace('\u2581', ' ');
    }

    @TestFactory
    Stream<DynamicTest> piecesOfTheTokensConcatenateToTheInputBytes() {
        return TokenizerFixtures.VOCABS.stream().map(vocab -> DynamicTest.dynamicTest(vocab, () -> {
            Tokenizer tok = TokenizerFixtures.vocab(vocab);
            boolean spacePrefix = tok.vocabulary().flags().addSpacePrefix();
            for (String text : texts(vocab)) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (int id : tok.encode(text, false, false)) {
                    out.writeBytes(tok.tokenBytes(id));
                }
                String expected = spacePrefix ? spm(text.isEmpty() ? text : " " + text) : text;
                assertEquals(expected, out.toString(StandardCharsets.UTF_8), vocab);
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> decodeOfEncodeGivesBackTheTextWhereLlamaCppDoesNotCleanSpaces() {
        return Stream.of("llama-spm", "deepseek-coder", "qwen2").map(vocab -> DynamicTest.dynamicTest(vocab, () -> {
            Tokenizer tok = TokenizerFixtures.vocab(vocab);
            assertTrue(!tok.vocabulary().flags().cleanSpaces());
            boolean spm = tok.vocabulary().model() == Vocabulary.Model.SPM;
            for (String text : texts(vocab)) {
                assertEquals(spm ? spm(text) : text, tok.decode(tok.encode(text, false, false)));
            }
        }));
    }

    @Test
    void gpt2StyleVocabulariesCleanUpSpacesBeforePunctuationLikeLlamaCpp() {
        Tokenizer tok = TokenizerFixtures.vocab("gpt-2");
        assertTrue(tok.vocabulary().flags().cleanSpaces());
        // llama.cpp drops " " before ? ! . , and around a lone apostrophe, and before 's 'm 're 've
        assertEquals("Hello, world! It's a'test.", tok.decode(tok.encode("Hello , world ! It 's a ' test .", false, false)));
        assertEquals("we're here, they've gone but 'tis 'll", tok.decode(tok.encode("we 're here , they 've gone but 'tis 'll", false, false)));
    }

    @Test
    void sentencePieceDecodeStripsThePrefixSpaceOnlyWithoutALeadingBos() {
        Tokenizer tok = TokenizerFixtures.vocab("llama-spm");
        int[] withBos = tok.encode("Hello world", true, false);
        assertEquals(1, withBos[0]);
        assertEquals("Hello world", tok.decode(tok.encode("Hello world", false, false)));
        // llama_detokenize(remove_special) drops the BOS and then keeps the space the encoder added
        assertEquals(" Hello world", tok.decode(withBos, true, false));
        assertEquals("<s> Hello world", tok.decode(withBos, false, true));
    }

    @Test
    void parsedSpecialTokensRenderBackAsTheirText() {
        Tokenizer tok = TokenizerFixtures.vocab("qwen2");
        String fim = "<|fim_prefix|>def f():\n    <|fim_suffix|>\n    return x<|fim_middle|>";
        int[] ids = tok.encode(fim, true, true);
        assertEquals(151659, ids[0]);
        assertEquals(fim, tok.decode(ids, false, true));
        assertEquals("def f():\n    \n    return x", tok.decode(ids));
    }

    @Test
    void specialTokenTextIsPlainTextUnlessParsingSpecials() {
        Tokenizer tok = TokenizerFixtures.vocab("qwen2");
        int[] plain = tok.encode("<|endoftext|>", false, false);
        assertTrue(plain.length > 1);
        assertArrayEquals(new int[] {151643}, tok.encode("<|endoftext|>", false, true));
        assertEquals("<|endoftext|>", tok.decode(plain));
    }

    @Test
    void userDefinedTokensAreRecognizedEvenWithoutParsingSpecials() {
        // deepseek-coder marks single characters such as "õ" as user-defined tokens
        Tokenizer tok = TokenizerFixtures.vocab("deepseek-coder");
        assertEquals(TokenType.USER_DEFINED, tok.vocabulary().type(32000));
        assertArrayEquals(new int[] {32000}, tok.encode("õ", false, false));
    }
}
