package dev.flint.engine.tokenizer;

import java.util.Arrays;
import java.util.function.IntPredicate;

/** A trie of byte strings with int values, to find every special token starting at a position in one walk. */
final class ByteTrie {
    private byte[] label = new byte[64];
    private int[] firstChild = new int[64];
    private int[] nextSibling = new int[64];
    private int[] value = new int[64];
    private int nodes = 1; // node 0 is the root
    /** The root's children by byte value: most input bytes start no key, and this rejects them at once. */
    private final int[] rootChild = new int[256];

    ByteTrie() {
        Arrays.fill(rootChild, -1);
        firstChild[0] = -1;
        nextSibling[0] = -1;
        value[0] = -1;
    }

    void insert(byte[] key, int v) {
        int node = 0;
        for (byte b : key) {
            int child = child(node, b);
            if (child < 0) {
                child = newNode(b);
                nextSibling[child] = firstChild[node];
                firstChild[node] = child;
                if (node == 0) {
                    rootChild[b & 0xFF] = child;
                }
            }
            node = child;
        }
        value[node] = v;
    }

    private int child(int node, byte b) {
        for (int c = firstChild[node]; c >= 0; c = nextSibling[c]) {
            if (label[c] == b) {
                return c;
            }
        }
        return -1;
    }

    private int newNode(byte b) {
        if (nodes == label.length) {
            int cap = nodes * 2;
            label = Arrays.copyOf(label, cap);
            firstChild = Arrays.copyOf(firstChild, cap);
            nextSibling = Arrays.copyOf(nextSibling, cap);
            value = Arrays.copyOf(value, cap);
        }
        label[nodes] = b;
        firstChild[nodes] = -1;
        nextSibling[nodes] = -1;
        value[nodes] = -1;
        return nodes++;
    }

    /** Offers the value of every key that starts at {@code pos} to {@code sink}; true if the sink accepted any. */
    boolean markMatches(byte[] text, int pos, IntPredicate sink) {
        boolean any = false;
        int node = 0;
        for (int i = pos; i < text.length; i++) {
            node = node == 0 ? rootChild[text[i] & 0xFF] : child(node, text[i]);
            if (node < 0) {
                break;
            }
            if (value[node] >= 0) {
                any |= sink.test(value[node]);
            }
        }
        return any;
    }
}
