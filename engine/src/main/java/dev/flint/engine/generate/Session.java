package dev.flint.engine.generate;

import dev.flint.engine.kv.KvCache;
import dev.flint.engine.model.Batch;
import dev.flint.engine.model.Transformer;
import dev.flint.engine.parallel.WorkerPool;

import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * One sequence being evaluated: its KV cache and the tokens it holds. A new prompt reuses the longest prefix it
 * shares with what the session already computed, so a follow-up request only pays for its new tokens.
 * Not thread-safe: one request uses a session at a time.
 */
public final class Session {
    private final Transformer transformer;
    private final WorkerPool pool;
    private final KvCache cache;
    private final int batchSize;
    private final Batch batch = new Batch();
    private final float[] logits;
    private int[] tokens = new int[64];
    private int length;

    Session(Transformer transformer, WorkerPool pool, int contextLength, int batchSize) {
        this.transformer = transformer;
        this.pool = pool;
        this.cache = transformer.newCache(contextLength);
        this.batchSize = batchSize;
        this.logits = new float[transformer.vocabularySize()];
    }

    /** Tokens whose keys and values are in the cache. */
    public int length() {
        return length;
    }

    public int capacity() {
        return cache.capacity();
    }

    public int[] tokens() {
        return Arrays.copyOf(tokens, length);
    }

    /** Logits after the last evaluated token (valid after an eval that computed them). */
    public float[] logits() {
        return logits;
    }

    public KvCache cache() {
        return cache;
    }

    /** Forgets everything after the first {@code n} tokens. */
    public void truncate(int n) {
        if (n < 0 || n > length) {
            throw new IllegalArgumentException("cannot truncate " + length + " tokens to " + n);
        }
        length = n;
    }

    /** Length of the common prefix of {@code prompt} and the tokens in the cache. */
    public int commonPrefix(int[] prompt) {
        int n = Math.min(length, prompt.length);
        int i = 0;
        while (i < n && tokens[i] == prompt[i]) {
            i++;
        }
        return i;
    }

    /**
     * Makes the session hold exactly {@code prompt}, computing only what is not already cached, and leaves the
     * logits of its last token in {@link #logits()}. Returns how many tokens were reused from the cache.
     *
     * @throws CancelledException if {@code cancelled} becomes true between two batches
     */
    public int prefill(int[] prompt, BooleanSupplier cancelled) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        if (prompt.length > capacity()) {
            throw new ContextOverflowException(prompt.length, capacity());
        }
        // keep at least the last token to recompute: its logits are needed
        int reuse = Math.min(commonPrefix(prompt), prompt.length - 1);
        truncate(reuse);
        append(prompt, reuse, prompt.length - reuse, cancelled);
        return reuse;
    }

    /** Evaluates {@code n} tokens after what the session holds; logits of the last one end up in {@link #logits()}. */
    public void append(int[] toks, int off, int n, BooleanSupplier cancelled) {
        if (length + n > capacity()) {
            throw new ContextOverflowException(length + n, capacity());
        }
        for (int start = 0; start < n; start += batchSize) {
            if (cancelled != null && cancelled.getAsBoolean()) {
                throw new CancelledException();
            }
            int m = Math.min(batchSize, n - start);
            batch.clear();
            for (int i = 0; i < m; i++) {
                boolean last = start + i == n - 1;
                batch.add(toks[off + start + i], length + i, cache, last);
            }
            transformer.forward(batch, logits, pool);
            ensureCapacity(length + m);
            System.arraycopy(toks, off + start, tokens, length, m);
            length += m;
        }
    }

    /**
     * Evaluates {@code n} tokens in one forward pass and writes the logits after each of them to
     * {@code out[i * vocab]}: the verification step of speculative decoding. Afterwards {@link #logits()} holds the
     * last token's logits.
     */
    public void appendAll(int[] toks, int off, int n, float[] out) {
        if (length + n > capacity()) {
            throw new ContextOverflowException(length + n, capacity());
        }
        batch.clear();
        for (int i = 0; i < n; i++) {
            batch.add(toks[off + i], length + i, cache, true);
        }
        transformer.forward(batch, out, pool);
        int nv = logits.length;
        System.arraycopy(out, (n - 1) * nv, logits, 0, nv);
        ensureCapacity(length + n);
        System.arraycopy(toks, off, tokens, length, n);
        length += n;
    }

    /** Makes {@code logits()} hold the given row (after rejecting speculated tokens). */
    void setLogits(float[] src, int off) {
        System.arraycopy(src, off, logits, 0, logits.length);
    }

    /** The token at position {@code i}. */
    public int token(int i) {
        return tokens[i];
    }

    /** Evaluates one token (a decode step). */
    public void append(int token) {
        append(new int[] {token}, 0, 1, null);
    }

    private void ensureCapacity(int n) {
        if (n > tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(n, tokens.length * 2));
        }
    }
}
