package dev.flint.engine.kv;

import dev.flint.engine.tensor.Numerics;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class PrefixTreeTest {
    static final int LAYERS = 3;
    static final int KV = 8;
    static final long PER_TOKEN = 2L * LAYERS * KV * Short.BYTES;

    /** A cache whose entries identify (token, position), rounded to half precision as real caches hold them. */
    static KvCache cacheFor(int[] tokens) {
        KvCache c = new KvCache(LAYERS, 256, KV);
        for (int l = 0; l < LAYERS; l++) {
            for (int p = 0; p < tokens.length; p++) {
                for (int d = 0; d < KV; d++) {
                    c.keys(l)[p * KV + d] = Numerics.roundToF16(tokens[p] * 0.01f + p * 0.001f + d + l * 10);
                    c.values(l)[d * c.cells() + p] = Numerics.roundToF16(-tokens[p] * 0.02f - p - d * 0.5f - l);
                }
            }
        }
        return c;
    }

    static int[] seq(int from, int n) {
        return IntStream.range(from, from + n).toArray();
    }

    static int[] concat(int[] a, int[] b) {
        return IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray();
    }

    static void assertSameEntries(KvCache expected, KvCache actual, int from, int to) {
        for (int l = 0; l < LAYERS; l++) {
            for (int p = from; p < to; p++) {
                for (int d = 0; d < KV; d++) {
                    assertEquals(expected.keys(l)[p * KV + d], actual.keys(l)[p * KV + d]);
                    assertEquals(expected.values(l)[d * expected.cells() + p], actual.values(l)[d * actual.cells() + p]);
                }
            }
        }
    }

    @Test
    void aStoredSequenceComesBackExactlyAndSharedPrefixesAreStoredOnce() {
        int[] header = seq(1000, 40);
        int[] a = concat(header, seq(1, 30));
        int[] b = concat(header, seq(500, 20));
        var tree = new PrefixTree(LAYERS, KV, 1 << 20);
        tree.insert(a, a.length, cacheFor(a));
        tree.insert(b, b.length, cacheFor(b));
        assertEquals((40 + 30 + 20) * PER_TOKEN, tree.bytes(), "the common header once");
        assertEquals(3, tree.nodeCount(), "header, then one branch each");

        int[] query = concat(b, seq(9000, 5)); // b and more
        var m = tree.longestPrefix(query, query.length);
        assertEquals(b.length, m.length());
        KvCache target = cacheFor(seq(7000, 100)); // different content everywhere
        tree.restore(m, target, 10);
        assertSameEntries(cacheFor(b), target, 10, b.length);
        assertEquals(cacheFor(seq(7000, 100)).keys(0)[5 * KV], target.keys(0)[5 * KV], "before 'from' untouched");

        var partial = tree.longestPrefix(concat(seq(1000, 25), seq(3, 3)), 28);
        assertEquals(25, partial.length(), "a match may end inside a node");
    }

    @Test
    void leastRecentlyUsedLeavesGoFirstWhenOverBudget() {
        var tree = new PrefixTree(LAYERS, KV, 100 * PER_TOKEN);
        int[] a = seq(0, 40);
        int[] b = seq(100, 40);
        int[] c = seq(200, 40);
        tree.insert(a, a.length, cacheFor(a));
        tree.insert(b, b.length, cacheFor(b));
        tree.longestPrefix(a, a.length); // a is used again: b is now the least recent
        tree.insert(c, c.length, cacheFor(c));
        assertTrue(tree.bytes() <= 100 * PER_TOKEN);
        assertEquals(40, tree.longestPrefix(a, a.length).length());
        assertEquals(0, tree.longestPrefix(b, b.length).length(), "evicted");
        assertEquals(40, tree.longestPrefix(c, c.length).length());
        assertEquals(40, tree.evictedTokens());
    }

    @Test
    void aSequenceLargerThanTheBudgetKeepsTheLongestPrefixThatFits() {
        var tree = new PrefixTree(LAYERS, KV, 30 * PER_TOKEN);
        int[] a = seq(0, 50);
        tree.insert(a, a.length, cacheFor(a));
        assertEquals(30, tree.longestPrefix(a, a.length).length());
        assertEquals(30 * PER_TOKEN, tree.bytes());
    }

    @Test
    void randomInsertsKeepEveryStoredPrefixExact() {
        Random r = new Random(3);
        var tree = new PrefixTree(LAYERS, KV, 1 << 22);
        int[][] stored = new int[30][];
        for (int i = 0; i < stored.length; i++) {
            int[] base = i > 0 && r.nextBoolean() ? stored[r.nextInt(i)] : new int[0];
            int keep = base.length == 0 ? 0 : r.nextInt(base.length);
            int[] s = concat(java.util.Arrays.copyOf(base, keep), seq(10_000 * (i + 1), 1 + r.nextInt(30)));
            stored[i] = s;
            tree.insert(s, s.length, cacheFor(s));
        }
        for (int[] s : stored) {
            var m = tree.longestPrefix(s, s.length);
            assertEquals(s.length, m.length());
            KvCache target = new KvCache(LAYERS, 256, KV);
            tree.restore(m, target, 0);
            assertSameEntries(cacheFor(s), target, 0, s.length);
        }
        // close frees the native entries: nothing is left to match
        assertTrue(tree.nodeCount() > 0);
        tree.close();
        assertEquals(0, tree.bytes());
        assertEquals(0, tree.nodeCount());
        assertEquals(0, tree.longestPrefix(stored[0], stored[0].length).length());
    }
}
