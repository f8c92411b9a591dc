package dev.flint.engine.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * llama.cpp's default sampler chain for one generation: penalties over the last N tokens → top-k → top-p → min-p →
 * temperature → draw from the distribution (or argmax when greedy). Working buffers are sized once to the
 * vocabulary and reused, so sampling allocates nothing per token. The random source is a {@link SplittableRandom}
 * seeded from the config, so a seed reproduces a generation exactly (within Flint, not across engines).
 */
public final class Sampler {
    /** With top-k off, look at this many best tokens first; fall back to all only if they hold < top_p mass. */
    private static final int PARTIAL = 1024;

    private final SamplerConfig c;
    private final SplittableRandom rng;
    private final int[] history;
    private int historyLen;
    private int historyHead;
    /** Occurrences of each token id in the history; null while the penalties are off (then nothing is tracked). */
    private final int[] counts;
    private float[] work = new float[0];
    private int[] ids = new int[0];
    private float[] probs = new float[0];

    public Sampler(SamplerConfig config, int nVocab) {
        this.c = config;
        this.rng = config.seed() != null ? new SplittableRandom(config.seed()) : new SplittableRandom();
        int lastN = config.penaltyLastN() < 0 ? 4096 : config.penaltyLastN();
        this.history = new int[Math.max(0, lastN)];
        this.counts = penaltiesOn() ? new int[nVocab] : null;
        ensure(nVocab);
    }

    private void ensure(int n) {
        if (work.length < n) {
            work = new float[n];
            ids = new int[n];
            probs = new float[n];
        }
    }

    /** Records a token of the context (prompt or generated) for the penalties. */
    public void accept(int token) {
        if (counts == null) {
            return;
        }
        if (historyLen == history.length) {
            count(history[historyHead], -1);
        } else {
            historyLen++;
        }
        history[historyHead] = token;
        historyHead = (historyHead + 1) % history.length;
        count(token, 1);
    }

    private void count(int token, int delta) {
        if (token >= 0 && token < counts.length) { // ids outside the vocabulary have no logit to penalise
            counts[token] += delta;
        }
    }

    private boolean penaltiesOn() {
        return history.length > 0 && (c.repeatPenalty() != 1f || c.frequencyPenalty() != 0f || c.presencePenalty() != 0f);
    }

    /** Picks the next token from {@code logits[0 .. nVocab)} (the array is not modified). */
    public int sample(float[] logits, int nVocab) {
        return sample(logits, 0, nVocab);
    }

    /** Picks the next token from the row {@code logits[off .. off + nVocab)}. */
    public int sample(float[] logits, int off, int nVocab) {
        ensure(nVocab);
        float[] l = work;
        System.arraycopy(logits, off, l, 0, nVocab);
        for (int i = 0; i < nVocab; i++) {
            if (Float.isNaN(l[i])) {
                l[i] = Float.NEGATIVE_INFINITY;
            }
        }
        if (counts != null) {
            // once per distinct token of the history: a count is negated once applied, and restored after
            for (int i = 0; i < historyLen; i++) {
                int t = history[i];
                if (t < 0 || t >= Math.min(nVocab, counts.length) || counts[t] <= 0) {
                    continue;
                }
                int count = counts[t];
                l[t] = l[t] <= 0 ? l[t] * c.repeatPenalty() : l[t] / c.repeatPenalty();
                l[t] -= count * c.frequencyPenalty() + c.presencePenalty();
                counts[t] = -count;
            }
            for (int i = 0; i < historyLen; i++) {
                int t = history[i];
                if (t >= 0 && t < counts.length && counts[t] < 0) {
                    counts[t] = -counts[t];
                }
            }
        }
        if (c.isGreedy()) {
            return argmax(l, nVocab);
        }
        // candidates sorted by logit, best first
        int k = c.topK() > 0 ? Math.min(c.topK(), nVocab) : Math.min(PARTIAL, nVocab);
        int n = topK(l, nVocab, k);
        if (c.topK() <= 0 && n < nVocab && c.topP() < 1f && massOf(n, nVocab) < c.topP()) {
            n = topK(l, nVocab, nVocab); // the partial set is too thin for top-p: take everything
        }
        if (c.topP() < 1f) {
            softmax(n, 1f);
            float cum = 0f;
            for (int i = 0; i < n; i++) {
                cum += probs[i];
                if (cum >= c.topP()) {
                    n = i + 1;
                    break;
                }
            }
        }
        if (c.minP() > 0f && n > 1) {
            float min = l[ids[0]] + (float) Math.log(c.minP());
            int keep = 1;
            while (keep < n && l[ids[keep]] >= min) {
                keep++;
            }
            n = keep;
        }
        softmax(n, c.temperature());
        double r = rng.nextDouble();
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (r < cum) {
                return ids[i];
            }
        }
        return ids[n - 1];
    }

    /** Highest logit; the lowest id among equals. All -inf (or NaN) logits give token 0. */
    static int argmax(float[] l, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (l[i] > l[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Puts the k best token ids in {@code ids[0..k)}, best first (ties: lower id first). Returns k. */
    private int topK(float[] l, int n, int k) {
        if (k >= n) {
            Integer[] all = new Integer[n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
            }
            Arrays.sort(all, (a, b) -> l[a] != l[b] ? Float.compare(l[b], l[a]) : Integer.compare(a, b));
            for (int i = 0; i < n; i++) {
                ids[i] = all[i];
            }
            return n;
        }
        // min-heap of the k best in ids[0..k), root = worst of them
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (size < k) {
                ids[size] = i;
                siftUp(l, size++);
            } else if (better(l, i, ids[0])) {
                ids[0] = i;
                siftDown(l, 0, size);
            }
        }
        // heap sort: repeatedly move the worst to the end, giving best-first order
        for (int end = size - 1; end > 0; end--) {
            int t = ids[0];
            ids[0] = ids[end];
            ids[end] = t;
            siftDown(l, 0, end);
        }
        return size;
    }

    private static boolean better(float[] l, int a, int b) {
        return l[a] > l[b] || (l[a] == l[b] && a < b);
    }

    private void siftUp(float[] l, int i) {
        while (i > 0) {
            int p = (i - 1) / 2;
            if (better(l, ids[p], ids[i])) {
                int t = ids[p];
                ids[p] = ids[i];
                ids[i] = t;
                i = p;
            } else {
                return;
            }
        }
    }

    private void siftDown(float[] l, int i, int size) {
        while (true) {
            int a = 2 * i + 1;
            int b = a + 1;
            int worst = i;
            if (a < size && better(l, ids[worst], ids[a])) {
                worst = a;
            }
            if (b < size && better(l, ids[worst], ids[b])) {
                worst = b;
            }
            if (worst == i) {
                return;
            }
            int t = ids[i];
            ids[i] = ids[worst];
            ids[worst] = t;
            i = worst;
        }
    }

    /** Probability mass of the first n candidates within the whole vocabulary (temperature 1). */
    private double massOf(int n, int nVocab) {
        float max = work[ids[0]];
        double top = 0;
        for (int i = 0; i < n; i++) {
            top += Math.exp(work[ids[i]] - max);
        }
        double all = 0;
        for (int i = 0; i < nVocab; i++) {
            all += Math.exp(work[i] - max);
        }
        return top / all;
    }

    /** probs[i] = softmax(logit[ids[i]] / temp) over the first n candidates. */
    private void softmax(int n, float temp) {
        float max = work[ids[0]] / temp;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float p = (float) Math.exp(work[ids[i]] / temp - max);
            probs[i] = p;
            sum += p;
        }
        for (int i = 0; i < n; i++) {
            probs[i] = (float) (probs[i] / sum);
        }
    }
}
