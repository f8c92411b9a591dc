package dev.flint.engine.kv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keys and values of token sequences that slots held before, kept in host memory as a radix tree so that any slot can
 * take a prefix back instead of recomputing it: several editors, or several files of one editor, share a handful of
 * slots without evicting one another's prompts. A sequence shares the nodes of the prefixes it has in common with the
 * others, so a file's header or a repository context is stored once.
 *
 * <p>Entries are stored at half precision, which loses nothing: the caches hold half-precision values already. Memory
 * is bounded: when the tree grows past its budget, least recently used leaves that nobody has pinned go first (a leaf
 * whose parent becomes childless makes the parent a leaf in turn). Slots copy entries out as soon as they find them,
 * so no node is referenced between calls; the reference counts ({@code pins}) keep what an insert is storing safe from
 * that insert's own eviction pass. Not thread-safe: the scheduler's loop thread owns it.
 */
public final class PrefixTree {
    /** A run of tokens and their cached entries, one edge of the tree. */
    private static final class Node {
        Node parent;
        int[] tokens;
        short[][] k; // [layer][i * kvDim + d]
        short[][] v; // [layer][i * kvDim + d] (position-major here, unlike the cache's transposed values)
        final Map<Integer, Node> children = new HashMap<>();
        long lastUsed;
        int pins;

        Node(Node parent, int[] tokens, short[][] k, short[][] v) {
            this.parent = parent;
            this.tokens = tokens;
            this.k = k;
            this.v = v;
        }
    }

    /** The longest stored prefix of a sequence: {@code length} tokens, along the path of nodes to {@code node}. */
    public static final class Match {
        private final List<Node> path;
        private final int length;

        private Match(List<Node> path, int length) {
            this.path = path;
            this.length = length;
        }

        public int length() {
            return length;
        }
    }

    private final int layers;
    private final int kvDim;
    private final long budgetBytes;
    private final Node root = new Node(null, new int[0], null, null);
    private long bytes;
    private long clock;
    private long evictedTokens;

    public PrefixTree(int layers, int kvDim, long budgetBytes) {
        this.layers = layers;
        this.kvDim = kvDim;
        this.budgetBytes = budgetBytes;
    }

    /** Bytes of entries held. */
    public long bytes() {
        return bytes;
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    /** Tokens dropped to stay within the budget since creation. */
    public long evictedTokens() {
        return evictedTokens;
    }

    private long bytesPerToken() {
        return 2L * layers * kvDim * Short.BYTES;
    }

    /** The longest prefix of {@code tokens[0, length)} that the tree holds (touching it for LRU). */
    public Match longestPrefix(int[] tokens, int length) {
        List<Node> path = new ArrayList<>();
        Node n = root;
        int matched = 0;
        long now = ++clock;
        while (matched < length) {
            Node child = n.children.get(tokens[matched]);
            if (child == null) {
                break;
            }
            int i = 0;
            while (i < child.tokens.length && matched + i < length && child.tokens[i] == tokens[matched + i]) {
                i++;
            }
            child.lastUsed = now;
            path.add(child);
            matched += i;
            if (i < child.tokens.length) {
                break;
            }
            n = child;
        }
        return new Match(path, matched);
    }

    /**
     * Copies the entries of positions {@code [from, match.length())} into {@code cache}. The match must come from
     * the latest calls (nothing inserted or evicted since).
     */
    public void restore(Match match, KvCache cache, int from) {
        int cells = cache.cells();
        int start = 0; // position of the current node's first token
        for (Node n : match.path) {
            int end = Math.min(start + n.tokens.length, match.length);
            for (int p = Math.max(from, start); p < end; p++) {
                int i = p - start;
                for (int l = 0; l < layers; l++) {
                    float[] kc = cache.keys(l);
                    float[] vc = cache.values(l);
                    short[] nk = n.k[l];
                    short[] nv = n.v[l];
                    for (int d = 0; d < kvDim; d++) {
                        kc[p * kvDim + d] = Float.float16ToFloat(nk[i * kvDim + d]);
                        vc[d * cells + p] = Float.float16ToFloat(nv[i * kvDim + d]);
                    }
                }
            }
            start += n.tokens.length;
        }
    }

    /**
     * Stores the sequence {@code tokens[0, length)} whose entries {@code cache} holds; only the part the tree does
     * not have yet is copied. Then evicts down to the budget (never the nodes just stored, if they alone fit).
     */
    public void insert(int[] tokens, int length, KvCache cache) {
        if ((long) length * bytesPerToken() > budgetBytes) {
            length = (int) (budgetBytes / bytesPerToken()); // keep the longest prefix that fits
        }
        if (length <= 0) {
            return;
        }
        long now = ++clock;
        Node n = root;
        int pos = 0;
        List<Node> path = new ArrayList<>();
        while (pos < length) {
            Node child = n.children.get(tokens[pos]);
            if (child == null) {
                int[] run = Arrays.copyOfRange(tokens, pos, length);
                Node leaf = new Node(n, run, new short[layers][], new short[layers][]);
                copyIn(leaf, cache, pos);
                n.children.put(run[0], leaf);
                bytes += run.length * bytesPerToken();
                leaf.lastUsed = now;
                path.add(leaf);
                break;
            }
            int i = 0;
            while (i < child.tokens.length && pos + i < length && child.tokens[i] == tokens[pos + i]) {
                i++;
            }
            if (i < child.tokens.length) {
                child = split(child, i);
            }
            child.lastUsed = now;
            path.add(child);
            pos += i;
            n = child;
        }
        for (Node p : path) {
            p.pins++; // what was just stored survives its own eviction pass
        }
        evict();
        for (Node p : path) {
            p.pins--;
        }
    }

    private void copyIn(Node node, KvCache cache, int from) {
        int n = node.tokens.length;
        int cells = cache.cells();
        for (int l = 0; l < layers; l++) {
            short[] k = new short[n * kvDim];
            short[] v = new short[n * kvDim];
            float[] kc = cache.keys(l);
            float[] vc = cache.values(l);
            for (int i = 0; i < n; i++) {
                int p = from + i;
                for (int d = 0; d < kvDim; d++) {
                    k[i * kvDim + d] = Float.floatToFloat16(kc[p * kvDim + d]);
                    v[i * kvDim + d] = Float.floatToFloat16(vc[d * cells + p]);
                }
            }
            node.k[l] = k;
            node.v[l] = v;
        }
    }

    /** Splits {@code node} after its first {@code at} tokens; returns the upper part, which takes its place. */
    private Node split(Node node, int at) {
        short[][] k1 = new short[layers][];
        short[][] v1 = new short[layers][];
        for (int l = 0; l < layers; l++) {
            k1[l] = Arrays.copyOfRange(node.k[l], 0, at * kvDim);
            v1[l] = Arrays.copyOfRange(node.v[l], 0, at * kvDim);
            node.k[l] = Arrays.copyOfRange(node.k[l], at * kvDim, node.k[l].length);
            node.v[l] = Arrays.copyOfRange(node.v[l], at * kvDim, node.v[l].length);
        }
        Node upper = new Node(node.parent, Arrays.copyOfRange(node.tokens, 0, at), k1, v1);
        upper.lastUsed = node.lastUsed;
        node.tokens = Arrays.copyOfRange(node.tokens, at, node.tokens.length);
        node.parent.children.put(upper.tokens[0], upper);
        node.parent = upper;
        upper.children.put(node.tokens[0], node);
        return upper;
    }

    private void evict() {
        while (bytes > budgetBytes) {
            Node victim = null;
            for (Node leaf : leaves()) {
                if (leaf.pins == 0 && (victim == null || leaf.lastUsed < victim.lastUsed)) {
                    victim = leaf;
                }
            }
            if (victim == null) {
                return; // everything left is pinned
            }
            victim.parent.children.remove(victim.tokens[0]);
            bytes -= victim.tokens.length * bytesPerToken();
            evictedTokens += victim.tokens.length;
        }
    }

    private List<Node> leaves() {
        List<Node> out = new ArrayList<>();
        List<Node> stack = new ArrayList<>(root.children.values());
        while (!stack.isEmpty()) {
            Node n = stack.removeLast();
            if (n.children.isEmpty()) {
                out.add(n);
            } else {
                stack.addAll(n.children.values());
            }
        }
        return out;
    }

    /** Sequences' worth of nodes, for tests and monitoring. */
    public int nodeCount() {
        int count = 0;
        List<Node> stack = new ArrayList<>(root.children.values());
        while (!stack.isEmpty()) {
            Node n = stack.removeLast();
            count++;
            stack.addAll(n.children.values());
        }
        return count;
    }
}
