package dev.flint.engine.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Token pieces follow llama_token_to_piece. */
class TokenizerPieceTest {
    static String piece(Tokenizer t, String token, boolean special) {
        return new String(t.tokenBytes(t.vocabulary().tokenId(token), special), StandardCharsets.UTF_8);
    }

    @Test
    void sentencePieceSpaceMarkerIsASpaceAndByteTokensAreTheirByte() {
        Tokenizer t = TokenizerFixtures.vocab("llama-spm");
        assertEquals(" Hello", piece(t, "▁Hello", false));
        assertArrayEquals(new byte[] {'\n'}, t.tokenBytes(t.vocabulary().tokenId("<0x0A>")));
        assertArrayEquals(new byte[] {(byte) 0xF0}, t.tokenBytes(t.vocabulary().tokenId("<0xF0>")));
        assertEquals(13, t.vocabulary().special().newline());
    }

    @Test
    void byteLevelCharactersMapBackToBytes() {
        Tokenizer t = TokenizerFixtures.vocab("gpt-2");
        assertEquals(" hello", piece(t, "Ġhello", false));
        assertEquals("\n", piece(t, "Ċ", false));
        assertEquals(198, t.vocabulary().special().newline());
    }

    @Test
    void controlTokensAreEmptyUnlessSpecialIsAsked() {
        Tokenizer t = TokenizerFixtures.vocab("llama-spm");
        assertEquals("", piece(t, "</s>", false));
        assertEquals("</s>", piece(t, "</s>", true));
        assertEquals("", piece(t, "<unk>", false));
        Tokenizer q = TokenizerFixtures.vocab("qwen2");
        assertEquals("", piece(q, "<|im_end|>", false));
        assertEquals("<|im_end|>", piece(q, "<|im_end|>", true));
        // user-defined tokens always render
        assertEquals("<tool_call>", piece(q, "<tool_call>", false));
    }
}
