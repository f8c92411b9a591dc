package dev.flint.engine.spec;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class NgramDrafterTest {
    private final NgramDrafter drafter = new NgramDrafter(1, 3);

    private int[] draft(int[] ctx, int max) {
        int[] out = new int[max];
        int n = drafter.draft(ctx, ctx.length, max, out);
        return Arrays.copyOf(out, n);
    }

    @Test
    void copiesWhatFollowedTheLastOccurrenceOfTheTail() {
        // "a b c d ... a b" -> draft "c d"
        assertArrayEquals(new int[] {3, 4}, draft(new int[] {1, 2, 3, 4, 9, 1, 2}, 2));
    }

    @Test
    void prefersTheLongestMatchingNgram() {
        // tail "7 1 2": the 3-gram occurred at index 4, the 2-gram "1 2" more recently at index 8
        int[] ctx = {0, 0, 0, 0, 7, 1, 2, 5, 1, 2, 6, 7, 1, 2};
        assertArrayEquals(new int[] {5, 1}, draft(ctx, 2));
    }

    @Test
    void usesTheMostRecentOccurrence() {
        int[] ctx = {1, 2, 3, 8, 1, 2, 4, 8, 1, 2};
        assertArrayEquals(new int[] {4, 8}, draft(ctx, 2));
    }

    @Test
    void draftsNothingWithoutARepeat() {
        assertEquals(0, draft(new int[] {1, 2, 3, 4}, 4).length);
    }

    @Test
    void draftIsCutAtTheEndOfTheContext() {
        assertArrayEquals(new int[] {2, 1}, draft(new int[] {1, 2, 1}, 8));
    }
}
