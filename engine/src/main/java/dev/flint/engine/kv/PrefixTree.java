package dev.flint.engine.kv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 *
 * <p>Entries live in native memory, one allocation per node, freed when the node is evicted or split and by
 * {@link #close}. On the Java heap, hundreds of megabytes of entries stored with every keystroke were copied by
 * the collector: a young collection paused the server for 0.8 s in a keystroke replay.
 */
public final class PrefixTree implements AutoCloseable {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT;

    /** A run of tokens and their cached entries, one edge of the tree. */
    private static final class Node {
        Node parent;
        int[] tokens;
        /**
         * Half-precision entries, position-major (unlike the cache's transposed values): the key of token i, layer
         * l, dimension d at short index {@code (l * n + i) * kvDim + d} for n tokens, its value at the same index
         * plus {@code layers * n * kvDim}.
         */
        Arena arena;
        MemorySegment entries;
        final Map<Integer, Node> children = new HashMap<>();
        long lastUsed;
        int pins;

        Node(Node parent, int[] tokens) {
            this.parent = parent;
            this.tokens = tokens;
        }

        void free() {
            if (arena != null) {
                arena.close();
                arena = null;
                entries = null;
            }
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
    private final Node root = new Node(null, new int[0]);
    private long bytes;
    private long clock;
    private long evictedTokens;

    /** One token's entries of one layer, converted on the heap and copied in bulk (element-wise segment access is
     * slow until the JIT compiles it, and conversion loops over arrays vectorise). */
    private final short[] kHalf;
    private final short[] vHalf;

    public PrefixTree(int layers, int kvDim, long budgetBytes) {
        this.kHalf = new short[kvDim];
        this.vHalf = new short[kvDim];
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
            int len = n.tokens.length;
            long values = (long) layers * len * kvDim;
            MemorySegment e = n.entries;
            for (int p = Math.max(from, start); p < end; p++) {
                int i = p - start;
                for (int l = 0; l < layers; l++) {
                    float[] kc = cache.keys(l);
                    float[] vc = cache.values(l);
                    long o = ((long) l * len + i) * kvDim;
                    MemorySegment.copy(e, HALF, o * Short.BYTES, kHalf, 0, kvDim);
                    MemorySegment.copy(e, HALF, (values + o) * Short.BYTES, vHalf, 0, kvDim);
                    for (int d = 0; d < kvDim; d++) {
                        kc[p * kvDim + d] = Float.float16ToFloat(kHalf[d]);
                        vc[d * cells + p] = Float.float16ToFloat(vHalf[d]);
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
                Node leaf = new Node(n, run);
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

    /** Native memory for the entries of {@code n} tokens. */
    private void allocate(Node node, int n) {
        node.arena = Arena.ofShared();
        node.entries = node.arena.allocate(2L * layers * n * kvDim * Short.BYTES, Short.BYTES);
    }

    private void copyIn(Node node, KvCache cache, int from) {
        int n = node.tokens.length;
        int cells = cache.cells();
        allocate(node, n);
        MemorySegment e = node.entries;
        long values = (long) layers * n * kvDim;
        for (int l = 0; l < layers; l++) {
            float[] kc = cache.keys(l);
            float[] vc = cache.values(l);
            for (int i = 0; i < n; i++) {
                int p = from + i;
                long o = ((long) l * n + i) * kvDim;
                for (int d = 0; d < kvDim; d++) {
                    kHalf[d] = Float.floatToFloat16(kc[p * kvDim + d]);
                    vHalf[d] = Float.floatToFloat16(vc[d * cells + p]);
                }
                MemorySegment.copy(kHalf, 0, e, HALF, o * Short.BYTES, kvDim);
                MemorySegment.copy(vHalf, 0, e, HALF, (values + o) * Short.BYTES, kvDim);
            }
        }
    }

    /** Copies tokens {@code [at, at + n)} of entries {@code src} (which hold {@code total}) into {@code dst}. */
    private void copyRange(MemorySegment src, int total, int at, int n, MemorySegment dst) {
        long srcValues = (long) layers * total * kvDim * Short.BYTES;
        long dstValues = (long) layers * n * kvDim * Short.BYTES;
        long run = (long) n * kvDim * Short.BYTES;
        for (int l = 0; l < layers; l++) {
            long so = ((long) l * total + at) * kvDim * Short.BYTES;
            long d0 = (long) l * n * kvDim * Short.BYTES;
            MemorySegment.copy(src, so, dst, d0, run);
            MemorySegment.copy(src, srcValues + so, dst, dstValues + d0, run);
        }
    }

    /**
     * Splits {@code node} after its first {@code at} tokens; returns the upper part, which takes its place. The node
     * keeps the rest, in an allocation of its own.
     */
    private Node split(Node node, int at) {
        int total = node.tokens.length;
        Node upper = new Node(node.parent, Arrays.copyOfRange(node.tokens, 0, at));
        allocate(upper, at);
        copyRange(node.entries, total, 0, at, upper.entries);
        Arena old = node.arena;
        MemorySegment entries = node.entries;
        allocate(node, total - at);
        copyRange(entries, total, at, total - at, node.entries);
        old.close();
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
            victim.free();
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

    /**
     * Stores, restores and evicts sequences of the given shape in a scratch tree, so that the JIT compiles the copies
     * before the first keystrokes need them: with native entries, a fresh server's first minute of typing measured
     * 67-78 ms to first token at the median instead of 50-60 without this.
     */
    public static void warmUp(int layers, int kvDim) {
        int cells = 64;
        KvCache cache = new KvCache(layers, cells, kvDim);
        KvCache target = new KvCache(layers, cells, kvDim);
        try (PrefixTree tree = new PrefixTree(layers, kvDim, 3L * cells * 2 * layers * kvDim * Short.BYTES)) {
            int[] tokens = new int[cells];
            for (int round = 0; round < 24; round++) {
                for (int i = round % cells; i < cells; i++) {
                    tokens[i] = round * cells + i; // a new branch from position round % cells on
                }
                tree.insert(tokens, cells, cache);
                tree.restore(tree.longestPrefix(tokens, cells), target, 0);
            }
        }
    }

    /** Frees every entry; the tree is empty afterwards. */
    @Override
    public void close() {
        List<Node> stack = new ArrayList<>(root.children.values());
        while (!stack.isEmpty()) {
            Node n = stack.removeLast();
            n.free();
            stack.addAll(n.children.values());
        }
        root.children.clear();
        bytes = 0;
    }
}
