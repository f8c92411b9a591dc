package dev.flint.engine.tokenizer;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Whole source files (tabs, CRLF, Unicode, emoji, long space runs) tokenize exactly as llama.cpp tokenized them. */
class TokenizerCorpusTest {
    static int[] readIds(Path p) {
        Matcher m = Pattern.compile("-?\\d+").matcher(TokenizerFixtures.read(p));
        return m.results().mapToInt(r -> Integer.parseInt(r.group())).toArray();
    }

    @TestFactory
    Stream<DynamicTest> everyCorpusFileMatchesLlamaCppForEveryVocab() {
        Path dir = TokenizerFixtures.root().resolve("tokenizer-corpus");
        return List.of("sample.py", "sample.rs").stream().flatMap(file -> TokenizerFixtures.VOCABS.stream()
                .map(vocab -> DynamicTest.dynamicTest(file + " with " + vocab, () -> {
                    int[] expected = readIds(dir.resolve(file + "." + vocab + ".ids"));
                    int[] actual = TokenizerFixtures.vocab(vocab)
                            .encode(TokenizerFixtures.read(dir.resolve(file)), false, false);
                    assertArrayEquals(expected, actual, () -> "expected " + Arrays.toString(expected)
                            + "\nactual   " + Arrays.toString(actual));
                })));
    }
}
