package dev.flint.engine.model;

import dev.flint.engine.kv.KvCache;
import dev.flint.engine.parallel.WorkerPool;
import dev.flint.engine.tensor.MatMul;
import dev.flint.engine.tensor.Numerics;
import dev.flint.engine.tensor.WeightMatrix;

import java.util.function.IntConsumer;

/**
 * The forward pass shared by every {@link Architecture}: pre-norm attention with grouped-query heads and RoPE, then a
 * SwiGLU or GELU feed-forward, each added to the residual stream. A batch may mix tokens of several sequences (each
 * token names its KV cache and position), which is what continuous batching needs; a prompt is simply a batch of
 * consecutive positions of one sequence. Numerics follow llama.cpp's CPU backend: activations encoded per weight type,
 * KV stored at half precision, q and attention weights rounded to half precision before their products.
 */
public final class Transformer {
    private final ModelConfig c;
    private final ModelWeights w;
    private final int nVocab;
    private final Rope rope;
    private final float attentionScale; // 1 / sqrt(head size)
    private final ThreadLocal<float[]> scoreBuffers = ThreadLocal.withInitial(() -> new float[256]);
    private Scratch scratch;

    // The pass in progress, read by the steps below on the pool's threads. Fields rather than captured locals so that
    // a decode step allocates nothing: a capturing lambda per step and layer cost 8.5 KB per generated token. Safe
    // because forward() is synchronized, and published to the workers by the pool's hand-off (a volatile write).
    private Batch batch;
    private Scratch s;
    private int layer;
    private LayerWeights lw;
    private WorkerPool pool;
    private boolean batched;
    private int runsPerGroup, headsPerTask;

    // Each step is bound once here: a bound method reference allocates where it is evaluated.
    private final IntConsumer embedStep = this::embed;
    private final IntConsumer attnNormStep = this::attnNorm;
    private final IntConsumer qkvStep = this::biasRotateStore;
    private final IntConsumer attendStep = this::attend;
    private final IntConsumer attnResidualStep = this::addAttentionOutput;
    private final IntConsumer ffnNormStep = this::ffnNorm;
    private final IntConsumer swiGluStep = this::swiGluChunk;
    private final IntConsumer geluStep = this::upThroughGelu;
    private final IntConsumer ffnResidualStep = this::addFeedForwardOutput;
    private final PerToken perToken = new PerToken();

    public Transformer(ModelConfig config, ModelWeights weights, int nVocab) {
        this.c = config;
        this.w = weights;
        this.nVocab = nVocab;
        this.rope = new Rope(config, weights.ropeFreqFactors());
        this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
    }

    public ModelConfig config() {
        return c;
    }

    public int vocabularySize() {
        return nVocab;
    }

    /** A KV cache for one sequence of up to {@code capacity} tokens. */
    public KvCache newCache(int capacity) {
        return new KvCache(c.blockCount(), capacity, c.kvDim());
    }

    /**
     * Moves the cached keys and values of positions {@code [from, from + n)} to {@code [to, to + n)} in every layer
     * and re-rotates the keys by {@code to - from}, as llama.cpp's K-shift does (RoPE angles add, so rotating a cached
     * key by the distance moved equals rotating the unrotated key at the new position, up to rounding: the key is
     * rotated in float and stored back at half precision). Values carry no position and are copied as they are.
     * Overlapping ranges are fine. What it cannot restore is context: the moved entries were computed after the old
     * neighbours, which is the approximation llama.cpp's {@code --cache-reuse} makes too.
     */
    public synchronized void shiftCache(KvCache cache, int from, int to, int n) {
        if (n <= 0 || from == to) {
            return;
        }
        if (from < 0 || to < 0 || from + n > cache.capacity() || to + n > cache.capacity()) {
            throw new IllegalArgumentException("cannot move " + n + " cells from " + from + " to " + to
                    + " in a context of " + cache.capacity());
        }
        int kvDim = c.kvDim();
        int cells = cache.cells();
        float[] table = new float[rope.dims()];
        rope.angles(to - from, table, 0);
        for (int l = 0; l < c.blockCount(); l++) {
            float[] k = cache.keys(l);
            System.arraycopy(k, from * kvDim, k, to * kvDim, n * kvDim); // memmove semantics
            for (int p = to; p < to + n; p++) {
                rope.rotate(k, p * kvDim, c.headCountKv(), c.headDim(), table, 0);
                for (int i = p * kvDim; i < (p + 1) * kvDim; i++) {
                    k[i] = Numerics.roundToF16(k[i]);
                }
            }
            float[] v = cache.values(l);
            for (int i = 0; i < kvDim; i++) {
                System.arraycopy(v, i * cells + from, v, i * cells + to, n);
            }
        }
    }

    /**
     * Evaluates {@code batch}; for the i-th token that asked for logits (in batch order) writes them to
     * {@code logits[i * vocabularySize()]}. Serialised: one forward pass at a time uses the model's scratch memory
     * and all of the pool's threads.
     */
    public synchronized void forward(Batch batch, float[] logits, WorkerPool pool) {
        int n = batch.size();
        if (n == 0) {
            return;
        }
        for (int t = 0; t < n; t++) {
            int pos = batch.position(t);
            if (pos < 0 || pos >= batch.cache(t).capacity()) {
                throw new IllegalArgumentException("position " + pos + " is outside the context of "
                        + batch.cache(t).capacity() + " tokens");
            }
            int tok = batch.token(t);
            if (tok < 0 || tok >= nVocab) {
                throw new IllegalArgumentException("token id " + tok + " is outside the vocabulary of " + nVocab);
            }
        }
        if (logits != null && logits.length < (long) batch.logitCount() * nVocab) {
            throw new IllegalArgumentException("logits buffer too small for " + batch.logitCount() + " rows");
        }
        Scratch s = scratch(n);
        this.batch = batch;
        this.s = s;
        this.pool = pool;
        try {
            cellsInUse(batch, s.nkv);
            perToken.run(n, embedStep);
            for (int l = 0; l < c.blockCount(); l++) {
                this.layer = l;
                this.lw = w.layers()[l];
                attention(n);
                feedForward(n);
            }
        } finally {
            this.batch = null; // nothing of the caller's is kept past the call
            this.lw = null;
            this.pool = null;
        }
        int m = batch.logitCount();
        if (m == 0 || logits == null) {
            return;
        }
        int e = c.embeddingLength();
        int r = 0;
        for (int t = 0; t < n; t++) {
            if (batch.wantsLogits(t)) {
                norm(s.x, t * e, s.xn, r * e, w.outputNorm(), w.outputNormBias());
                r++;
            }
        }
        s.inOut.reset(s.xn, e, m);
        matmul(pool, w.output(), s.inOut, logits);
    }

    private void embed(int t) {
        w.tokenEmbedding().dequantizeRow(batch.token(t), s.x, t * c.embeddingLength());
        rope.angles(batch.position(t), s.rope, t * rope.dims());
    }

    private void attention(int n) {
        int e = c.embeddingLength();
        perToken.run(n, attnNormStep);
        s.inAttn.reset(s.xn, e, n);
        matmul(pool, lw.wq(), s.inAttn, s.q);
        matmul(pool, lw.wk(), s.inAttn, s.k);
        matmul(pool, lw.wv(), s.inAttn, s.v);
        perToken.run(n, qkvStep);
        int group = c.headCount() / c.headCountKv();
        batched = n >= 2; // llama.cpp takes its prompt-batch kernels (tinyBLAS) from two tokens up
        // the query heads that share a KV head together, in runs of headsPerTask: each block of cached keys or
        // values is then read once for the run instead of once per head (at two thousand cells one head's keys and
        // values, 512 KiB each, no longer stayed in the core's L2 from one head to the next); runs as many as the
        // threads need. Run-major, so the tokens of a run also share the cache while it is in L2.
        if (batched) {
            valueSpans(batch, layer, s.nkv, s.vCells);
        }
        runsPerGroup = Math.min(group, (pool.threads() + c.headCountKv() - 1) / c.headCountKv());
        headsPerTask = (group + runsPerGroup - 1) / runsPerGroup;
        pool.parallelFor(n * c.headCountKv() * runsPerGroup, attendStep);
        s.inWo.reset(s.att, c.qDim(), n);
        matmul(pool, lw.wo(), s.inWo, s.tmp);
        perToken.run(n, attnResidualStep);
    }

    private void attnNorm(int t) {
        int e = c.embeddingLength();
        norm(s.x, t * e, s.xn, t * e, lw.attnNorm(), lw.attnNormBias());
    }

    /** Token t's q, k and v: biases, RoPE, and K and V into the cache at half precision as llama.cpp's F16 cache. */
    private void biasRotateStore(int t) {
        int qDim = c.qDim();
        int kvDim = c.kvDim();
        int hd = c.headDim();
        int rd = rope.dims();
        addBias(s.q, t * qDim, lw.bq());
        addBias(s.k, t * kvDim, lw.bk());
        addBias(s.v, t * kvDim, lw.bv());
        rope.rotate(s.q, t * qDim, c.headCount(), hd, s.rope, t * rd);
        rope.rotate(s.k, t * kvDim, c.headCountKv(), hd, s.rope, t * rd);
        KvCache cache = batch.cache(t);
        int pos = batch.position(t);
        int p = pos * kvDim;
        float[] kc = cache.keys(layer);
        float[] vc = cache.values(layer);
        int cap = cache.cells();
        for (int i = 0; i < kvDim; i++) {
            kc[p + i] = Numerics.roundToF16(s.k[t * kvDim + i]);
            vc[i * cap + pos] = Numerics.roundToF16(s.v[t * kvDim + i]);
        }
    }

    /** One task of attention: a run of query heads of one token (run-major, see {@link #attention}). */
    private void attend(int task) {
        int n = batch.size();
        int run = task / n;
        int t = task % n;
        int hd = c.headDim();
        int group = c.headCount() / c.headCountKv();
        int g = run / runsPerGroup;
        int h0 = g * group + (run % runsPerGroup) * headsPerTask;
        int m = Math.min(headsPerTask, (g + 1) * group - h0);
        if (m > 0) {
            attendHeads(s, layer, batch.cache(t), batch.position(t), s.nkv[t], batched ? s.vCells[t] : s.nkv[t],
                    batched, t * c.qDim() + h0 * hd, m, g * hd, attentionScale);
        }
    }

    private void addAttentionOutput(int t) {
        addToResidual(t, lw.bo());
    }

    /**
     * {@code m} consecutive query heads of one token that share one KV head (q at {@code qOff}, the KV head's
     * columns at {@code kvOff}): for each head softmax(q·K / sqrt(d)) · V over positions 0..pos of its sequence, with
     * llama.cpp's numerics: rows of {@code nkv} cells (the used cells rounded up to 32, later ones masked), F16
     * operands, ggml's exponential, and the products of its prompt-batch or single-token kernels. Each block of 16
     * cached keys (or 16 value rows) is used by all m heads before the next is read; every head's products are the
     * ones it would get alone. The product with V spans the first {@code vCells} cells ({@link #valueSpans}).
     */
    private void attendHeads(Scratch s, int layer, KvCache cache, int pos, int nkv, int vCells, boolean batched,
                             int qOff, int m, int kvOff, float scale) {
        int hd = c.headDim();
        int kvDim = c.kvDim();
        int cap = cache.cells();
        boolean batchedKq = batched && hd % 16 == 0; // tinyBLAS needs whole 16-lane steps, else ggml's own dot
        float[] kc = cache.keys(layer);
        float[] vc = cache.values(layer);
        float[] scores = scoreBuffers.get(); // head j's row at j * nkv
        if (scores.length < m * nkv) {
            scores = new float[Math.max(m * nkv, scores.length * 2)];
            scoreBuffers.set(scores);
        }
        float[] qh = s.qHalf(qOff, m * hd);
        float[] lanes = s.chunk(); // the products' vectors before their lane sums (16 x 16); the softmax reuses it
        int cell = 0;
        if (batchedKq) {
            for (; cell + 16 <= pos + 1; cell += 16) {
                for (int j = 0; j < m; j++) {
                    GgmlMath.dotBatch16(qh, j * hd, kc, cell * kvDim + kvOff, kvDim, hd, scores, j * nkv + cell,
                            lanes);
                }
            }
            for (; cell + 4 <= pos + 1; cell += 4) {
                for (int j = 0; j < m; j++) {
                    GgmlMath.dotBatch4(qh, j * hd, kc, cell * kvDim + kvOff, kvDim, hd, scores, j * nkv + cell,
                            lanes);
                }
            }
        }
        if (!batched) {
            for (; cell + 16 <= pos + 1; cell += 16) {
                for (int j = 0; j < m; j++) {
                    GgmlMath.dotSingle16(qh, j * hd, kc, cell * kvDim + kvOff, kvDim, hd, scores, j * nkv + cell,
                            lanes);
                }
            }
        }
        for (; cell <= pos; cell++) {
            int ko = cell * kvDim + kvOff;
            for (int j = 0; j < m; j++) {
                scores[j * nkv + cell] = batchedKq ? GgmlMath.dotBatch(qh, j * hd, kc, ko, hd, lanes)
                        : GgmlMath.dotSingle(qh, j * hd, kc, ko, hd, lanes);
            }
        }
        for (int j = 0; j < m; j++) {
            softmax(scores, j * nkv, pos, vCells, scale, s.chunk()); // chunks past vCells would add exact zeros
        }
        float[] out = s.att;
        int d = 0;
        if (batched && vCells % 16 == 0) {
            for (; d + 16 <= hd; d += 16) {
                for (int j = 0; j < m; j++) {
                    GgmlMath.dotBatch16(scores, j * nkv, vc, (kvOff + d) * cap, cap, vCells, out, qOff + j * hd + d,
                            lanes);
                }
            }
            for (; d + 4 <= hd; d += 4) {
                for (int j = 0; j < m; j++) {
                    GgmlMath.dotBatch4(scores, j * nkv, vc, (kvOff + d) * cap, cap, vCells, out, qOff + j * hd + d,
                            lanes);
                }
            }
        }
        if (!batched) {
            for (; d + 16 <= hd; d += 16) {
                for (int j = 0; j < m; j++) {
                    GgmlMath.dotSingle16(scores, j * nkv, vc, (kvOff + d) * cap, cap, nkv, out, qOff + j * hd + d,
                            lanes);
                }
            }
        }
        for (; d < hd; d++) {
            int vo = (kvOff + d) * cap;
            for (int j = 0; j < m; j++) {
                out[qOff + j * hd + d] = batched ? GgmlMath.dotBatch(scores, j * nkv, vc, vo, vCells, lanes)
                        : GgmlMath.dotSingle(scores, j * nkv, vc, vo, nkv, lanes);
            }
        }
    }

    /**
     * One head's scores at p[o..o+nkv) to softmax probabilities, rounded to F16 for the product with V: scaled, the
     * exponentials summed in chunks of 16 as ggml_vec_soft_max_f32 does, cells past {@code pos} masked to zero.
     */
    private static void softmax(float[] p, int o, int pos, int nkv, float scale, float[] chunk) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= pos; j++) {
            float sc = p[o + j] * scale;
            p[o + j] = sc;
            if (sc > max) {
                max = sc;
            }
        }
        double sum = 0;
        for (int j0 = 0; j0 < nkv; j0 += 16) {
            if (j0 + 16 <= pos + 1 && j0 + 16 <= nkv) {
                sum += GgmlMath.expSum16(p, o + j0, max);
                continue;
            }
            for (int k = 0; k < 16; k++) {
                int j = j0 + k;
                float e = j <= pos ? GgmlMath.expf(p[o + j] - max) : 0f;
                if (j < nkv) {
                    p[o + j] = e;
                }
                chunk[k] = e;
            }
            sum += GgmlMath.reduce16(chunk);
        }
        GgmlMath.scaleToHalf(p, o, (float) (1.0 / sum), nkv); // kq converted to F16 for the product with V
    }

    /**
     * For each token of a batch, how many cells its product with V (a prompt batch's kernel, one chain of 16 lanes
     * per output) must span to give llama.cpp's bits. llama.cpp multiplies all nkv cells; those past the token's
     * position carry a probability of exactly +0, and adding +0 * v to a lane changes nothing while v is finite (a
     * lane's sum is never -0: products of nonzero F16 numbers do not underflow, and exact cancellation gives +0). So
     * the span stops at the position rounded up to 16 when every value from there to nkv is finite, and stays nkv
     * otherwise (0 * inf is NaN). At 512 tokens from an empty cache this halves V's work.
     */
    static void valueSpans(Batch batch, int layer, int[] nkv, int[] vCells) {
        int n = batch.size();
        KvCache checked = null;
        int checkedFrom = 0;
        boolean finite = false;
        for (int t = 0; t < n; t++) {
            KvCache cache = batch.cache(t);
            int own = Math.min(nkv[t], (batch.position(t) + 16) / 16 * 16);
            if (cache != checked || own < checkedFrom) {
                // one scan per run of tokens of the same sequence, from the earliest span of the run
                int from = own;
                for (int u = t + 1; u < n && batch.cache(u) == cache; u++) {
                    from = Math.min(from, Math.min(nkv[u], (batch.position(u) + 16) / 16 * 16));
                }
                finite = allFinite(cache.values(layer), cache.cells(), cache.kvDim(), from, nkv[t]);
                checked = cache;
                checkedFrom = from;
            }
            vCells[t] = finite ? own : nkv[t];
        }
    }

    /** Whether cells [from, to) of all {@code rows} rows of transposed values are finite. */
    private static boolean allFinite(float[] v, int cells, int rows, int from, int to) {
        for (int i = 0; i < rows; i++) {
            for (int p = i * cells + from; p < i * cells + to; p++) {
                if (!Float.isFinite(v[p])) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * For each token, the cells llama.cpp's attention spans: the sequence's length after this batch, rounded up to a
     * multiple of 32 (its KV padding), at least 32, at most the cache size.
     */
    private static void cellsInUse(Batch batch, int[] nkv) {
        int n = batch.size();
        for (int t = 0; t < n; t++) {
            KvCache cache = batch.cache(t);
            int maxPos = 0;
            for (int u = 0; u < n; u++) {
                if (batch.cache(u) == cache) {
                    maxPos = Math.max(maxPos, batch.position(u));
                }
            }
            int padded = Math.max(32, (maxPos + 1 + 31) / 32 * 32);
            nkv[t] = Math.min(cache.cells(), padded);
        }
    }

    private void feedForward(int n) {
        int e = c.embeddingLength();
        int ff = c.feedForwardLength();
        perToken.run(n, ffnNormStep);
        s.inFfn.reset(s.xn, e, n);
        matmul(pool, lw.ffnUp(), s.inFfn, s.up);
        if (lw.ffnGate() != null) {
            matmul(pool, lw.ffnGate(), s.inFfn, s.gate);
            int total = n * ff;
            if (total <= ELEMENTWISE_CHUNK) {
                GgmlMath.swiGlu(s.up, s.gate, 0, total);
            } else {
                pool.parallelFor((total + ELEMENTWISE_CHUNK - 1) / ELEMENTWISE_CHUNK, swiGluStep);
            }
        } else {
            perToken.run(n, geluStep);
        }
        s.inDown.reset(s.up, ff, n);
        matmul(pool, lw.ffnDown(), s.inDown, s.tmp);
        perToken.run(n, ffnResidualStep);
    }

    private void ffnNorm(int t) {
        int e = c.embeddingLength();
        norm(s.x, t * e, s.xn, t * e, lw.ffnNorm(), lw.ffnNormBias());
    }

    private void swiGluChunk(int k) {
        int total = batch.size() * c.feedForwardLength();
        GgmlMath.swiGlu(s.up, s.gate, k * ELEMENTWISE_CHUNK, Math.min(total, (k + 1) * ELEMENTWISE_CHUNK));
    }

    /** Token t's up projection through its bias and GELU (the feed-forward without a gate). */
    private void upThroughGelu(int t) {
        int ff = c.feedForwardLength();
        addBias(s.up, t * ff, lw.ffnUpBias());
        for (int i = t * ff; i < (t + 1) * ff; i++) {
            s.up[i] = gelu(s.up[i]);
        }
    }

    private void addFeedForwardOutput(int t) {
        addToResidual(t, lw.ffnDownBias());
    }

    /** Token t's row of a block's output (in tmp), through its optional bias, added to the residual stream. */
    private void addToResidual(int t, float[] bias) {
        int e = c.embeddingLength();
        addBias(s.tmp, t * e, bias);
        for (int i = 0; i < e; i++) {
            s.x[t * e + i] += s.tmp[t * e + i];
        }
    }

    /**
     * Runs a step that reads and writes only token t's rows (norms, biases, RoPE, the cache writes, residual adds,
     * GELU) for every token of the batch, on the pool: at 512 tokens these took about 60 ms per batch on the calling
     * thread alone. A decode step or a keystroke's few tokens stay inline. One instance, reused by every step of the
     * (serialised) forward pass.
     */
    private final class PerToken implements IntConsumer {
        private int n;
        private IntConsumer step;

        void run(int n, IntConsumer step) {
            if (n <= TOKENS_PER_TASK) {
                for (int t = 0; t < n; t++) {
                    step.accept(t);
                }
                return;
            }
            this.n = n;
            this.step = step;
            pool.parallelFor((n + TOKENS_PER_TASK - 1) / TOKENS_PER_TASK, this);
        }

        @Override
        public void accept(int k) {
            for (int t = k * TOKENS_PER_TASK; t < Math.min(n, (k + 1) * TOKENS_PER_TASK); t++) {
                step.accept(t);
            }
        }
    }

    private static final int TOKENS_PER_TASK = 8;

    private static void matmul(WorkerPool pool, WeightMatrix m, EncodedInput in, float[] out) {
        MatMul.apply(pool, m, in.get(m.activationFormat(), pool), out);
    }

    /** RMSNorm or LayerNorm of one row, then the weight and optional bias; sums in double as ggml does. */
    private void norm(float[] x, int xOff, float[] y, int yOff, float[] weight, float[] bias) {
        int e = c.embeddingLength();
        float eps = c.normEps();
        if (c.architecture().norm == Architecture.NormType.RMS) {
            double sum = 0;
            for (int i = 0; i < e; i++) {
                float v = x[xOff + i];
                sum += v * v;
            }
            float mean = (float) (sum / e);
            float scale = 1.0f / (float) Math.sqrt(mean + eps); // ggml: 1.0f/sqrtf(), in float
            for (int i = 0; i < e; i++) {
                y[yOff + i] = x[xOff + i] * scale * weight[i];
            }
        } else {
            double sum = 0;
            for (int i = 0; i < e; i++) {
                sum += x[xOff + i];
            }
            float mean = (float) (sum / e);
            double sum2 = 0;
            for (int i = 0; i < e; i++) {
                float v = x[xOff + i] - mean;
                y[yOff + i] = v;
                sum2 += v * v;
            }
            float variance = (float) (sum2 / e);
            float scale = 1.0f / (float) Math.sqrt(variance + eps);
            for (int i = 0; i < e; i++) {
                y[yOff + i] = y[yOff + i] * scale * weight[i] + (bias != null ? bias[i] : 0f);
            }
        }
    }

    private static void addBias(float[] x, int off, float[] bias) {
        if (bias != null) {
            for (int i = 0; i < bias.length; i++) {
                x[off + i] += bias[i];
            }
        }
    }

    /**
     * Elements per task of the element-wise steps of a batch (SwiGLU): enough to amortise the hand-off, small enough
     * that a prompt batch's millions of elements spread over every thread; a decode step's few thousand run inline.
     */
    private static final int ELEMENTWISE_CHUNK = 8192;

    private static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;
    private static final float GELU_COEF_A = 0.044715f;

    /** Tanh-approximated GELU through half precision, as ggml's lookup table computes it. */
    static float gelu(float x) {
        if (x <= -10f) {
            return 0f;
        }
        if (x >= 10f) {
            return x;
        }
        float h = Numerics.roundToF16(x);
        float g = 0.5f * h * (1.0f + CMath.tanhf(SQRT_2_OVER_PI * h * (1.0f + GELU_COEF_A * h * h)));
        return Numerics.roundToF16(g);
    }

    private Scratch scratch(int n) {
        if (scratch == null || scratch.capacity < n) {
            scratch = new Scratch(c, Math.max(n, scratch == null ? 1 : scratch.capacity));
        }
        return scratch;
    }

    /** Working memory for batches of up to {@code capacity} tokens, reused across calls. */
    private static final class Scratch {
        final int capacity;
        final float[] x, xn, q, k, v, att, tmp, up, gate, rope;
        final int[] nkv, vCells;
        private final ThreadLocal<float[]> chunk = ThreadLocal.withInitial(() -> new float[256]); // 16 x 16 lanes
        final EncodedInput inAttn, inWo, inFfn, inDown, inOut;
        private final ThreadLocal<float[]> qh;

        Scratch(ModelConfig c, int capacity) {
            this.capacity = capacity;
            int e = c.embeddingLength();
            x = new float[capacity * e];
            xn = new float[capacity * e];
            q = new float[capacity * c.qDim()];
            k = new float[capacity * c.kvDim()];
            v = new float[capacity * c.kvDim()];
            att = new float[capacity * c.qDim()];
            tmp = new float[capacity * e];
            up = new float[capacity * c.feedForwardLength()];
            gate = new float[capacity * c.feedForwardLength()];
            rope = new float[capacity * c.ropeDim()];
            nkv = new int[capacity];
            vCells = new int[capacity];
            inAttn = new EncodedInput(e, capacity);
            inWo = new EncodedInput(c.qDim(), capacity);
            inFfn = new EncodedInput(e, capacity);
            inDown = new EncodedInput(c.feedForwardLength(), capacity);
            inOut = new EncodedInput(e, capacity);
            qh = ThreadLocal.withInitial(() -> new float[c.qDim()]);
        }

        float[] chunk() {
            return chunk.get();
        }

        /** Query heads (hd floats each) rounded to half precision (llama.cpp converts q to F16 for the K·q product). */
        float[] qHalf(int off, int hd) {
            float[] r = qh.get();
            for (int i = 0; i < hd; i++) {
                r[i] = Numerics.roundToF16(q[off + i]);
            }
            return r;
        }
    }
}
