package dev.flint.engine.tokenizer;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Every test vector of llama.cpp's test-tokenizer-0 (no BOS, specials not parsed) is reproduced id for id. */
class TokenizerVocabVectorsTest {
    @TestFactory
    Stream<DynamicTest> everyVocabTestVectorMatchesLlamaCpp() {
        return TokenizerFixtures.VOCABS.stream().flatMap(vocab -> TokenizerFixtures.cases(vocab).stream()
                .map(c -> DynamicTest.dynamicTest(vocab + " " + c, () -> {
                    int[] actual = TokenizerFixtures.vocab(vocab).encode(c.input(), false, false);
                    assertArrayEquals(c.expected(), actual, () -> vocab + " " + c + "\n expected "
                            + Arrays.toString(c.expected()) + "\n actual   " + Arrays.toString(actual));
                })));
    }
}
