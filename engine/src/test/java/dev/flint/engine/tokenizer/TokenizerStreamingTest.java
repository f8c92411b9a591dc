package dev.flint.engine.tokenizer;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The streaming detokenizer emits only whole UTF-8 characters, however the bytes are spread over tokens. */
class TokenizerStreamingTest {
    static final String TEXT = "llama 🦙 says 你好世界, emoji 👨‍👩‍👧 and 🇫🇷 flags, ǅ𝔘𝔫𝔦𝔠𝔬𝔡𝔢 € ½\n\tend";

    @TestFactory
    Stream<DynamicTest> streamedTextNeverContainsABrokenCharacter() {
        return TokenizerFixtures.VOCABS.stream().map(vocab -> DynamicTest.dynamicTest(vocab, () -> {
            Tokenizer tok = TokenizerFixtures.vocab(vocab);
            int[] ids = tok.encode(TEXT, false, false);
            Detokenizer stream = tok.detokenizer();
            StringBuilder all = new StringBuilder();
            for (int id : ids) {
                String part = stream.push(id);
                assertFalse(part.contains("\uFFFD"), () -> vocab + ": broken character in '" + part + "'");
                assertFalse(!part.isEmpty() && Character.isLowSurrogate(part.charAt(0)), vocab);
                all.append(part);
            }
            all.append(stream.flush());
            String expected = tok.vocabulary().flags().addSpacePrefix() ? " " + TEXT : TEXT;
            assertEquals(expected, all.toString());
        }));
    }

    @Test
    void anEmojiSplitOverByteTokensAppearsWhenItsLastByteArrives() {
        Tokenizer tok = TokenizerFixtures.vocab("llama-spm");
        Vocabulary v = tok.vocabulary();
        Detokenizer stream = tok.detokenizer();
        byte[] llama = "🦙".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < llama.length - 1; i++) {
            assertEquals("", stream.push(v.tokenId(String.format("<0x%02X>", llama[i] & 0xFF))));
            assertEquals(i + 1, stream.pendingBytes());
        }
        assertEquals("🦙", stream.push(v.tokenId(String.format("<0x%02X>", llama[3] & 0xFF))));
        assertEquals("", stream.flush());
    }

    @Test
    void bytesThatNeverCompleteACharacterFlushAsReplacement() {
        Tokenizer tok = TokenizerFixtures.vocab("llama-spm");
        Detokenizer stream = tok.detokenizer();
        assertEquals("", stream.push(tok.vocabulary().tokenId("<0xE4>")));
        assertEquals("\uFFFD", stream.flush());
    }

    @Test
    void anInvalidByteDoesNotStallTheStream() {
        Tokenizer tok = TokenizerFixtures.vocab("llama-spm");
        Detokenizer stream = tok.detokenizer();
        assertEquals("\uFFFD", stream.push(tok.vocabulary().tokenId("<0xFF>")));
        assertEquals(" world", stream.push(tok.vocabulary().tokenId("▁world")));
    }
}
