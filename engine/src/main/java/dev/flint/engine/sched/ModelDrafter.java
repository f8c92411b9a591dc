package dev.flint.engine.sched;

import dev.flint.engine.kv.KvCache;
import dev.flint.engine.model.Batch;
import dev.flint.engine.model.Transformer;
import dev.flint.engine.parallel.WorkerPool;
import dev.flint.engine.spec.DraftModel;
import dev.flint.engine.tokenizer.Vocabulary;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drafting with a small model for the scheduler's slots (llama-server's {@code --model-draft}). Each slot has a draft
 * KV cache and the token each of its cells holds; before drafting, the cache is brought in step with the slot's
 * tokens: cells that hold the slot's token at that position are kept, the others are evaluated ("catch-up", at most
 * {@code stepTokens} per step over all slots, so a long prompt is followed over several steps and the slot decodes
 * without drafts meanwhile). A new job keeps the longest common prefix and, like the target's cache, moves the runs the
 * prompt holds elsewhere by re-rotating their keys ({@link ChunkReuse}); the prefix tree holds the target's cache only,
 * so what a prompt takes from it is recomputed here. Invariant: a cell whose recorded token is t at position p was
 * computed for t after the cells before it, as recorded, or moved there with a run (the approximation the target's
 * cache makes too); a job's start marks every other cell beyond the common prefix unusable (-1).
 *
 * <p>Drafting runs in rounds, one forward pass of the draft model per round over every drafting slot: the first
 * evaluates the catch-up tokens and each slot's pending token, each later one the token the previous round drafted.
 * A slot drafts the most probable token (greedy, whatever the job samples with) and stops after {@code maxDraft}
 * tokens, after a token whose probability is below {@code pMin} (that token is still proposed, as llama.cpp does),
 * after an end-of-generation token, or before a token the target's vocabulary lacks. The last drafted token is not
 * evaluated by the draft model; it is the next step's catch-up if the target accepts it. Touched only by the
 * scheduler's loop thread, but for the monitoring reads (racy, like {@link Scheduler#slotStates}).
 *
 * <p>A draft cache shorter than the slot's context ({@link SchedulerOptions#draftContextLength}, llama.cpp's
 * {@code -cd}) holds a window: cell c holds the slot's position {@code base + c}, and the draft model sees the
 * window's tokens at positions from 0, as llama.cpp drafts from the last tokens of a long context. When the slot's
 * tokens and a full draft would not fit, the window moves forward by the overflow plus a quarter of the cache (so
 * that it moves rarely), and the cells it keeps are moved to the front with their keys re-rotated, like a reused
 * run. Drafts only change how many tokens one target pass verifies, never what is written, so the window costs
 * acceptance at most.
 */
final class ModelDrafter {
    /** The draft model's view of one slot. */
    private static final class Sequence {
        volatile KvCache cache; // null once released
        final int[] tokens; // token held by each cell, -1 where a cell holds nothing usable
        int base;           // the slot's position that cell 0 holds
        int length;         // cells [0, length) are described by tokens
        boolean inStep;     // holds every token of its slot (set each step)
        boolean drafting;   // still drafting in this step's rounds
        boolean proposed;   // evaluated its pending token this step
        int maxDraft;
        int count;
        int row;

        Sequence(KvCache cache) {
            this.cache = cache;
            this.tokens = new int[cache.capacity()];
        }
    }

    private final Transformer tf;
    private final WorkerPool pool;
    private final Vocabulary targetVocab;
    private final int targetVocabSize;
    private final int draftVocabSize;
    private final SchedulerOptions options;
    private final Sequence[] seqs;
    private final Batch batch = new Batch();
    private final float[] logits;
    private final AtomicLong computed = new AtomicLong();

    ModelDrafter(DraftModel model, WorkerPool pool, Vocabulary targetVocab, int targetVocabSize,
                 SchedulerOptions options) {
        this.tf = model.transformer();
        this.pool = pool;
        this.targetVocab = targetVocab;
        this.targetVocabSize = targetVocabSize;
        this.draftVocabSize = model.vocabularySize();
        this.options = options;
        this.seqs = new Sequence[options.slots()];
        for (int i = 0; i < seqs.length; i++) {
            seqs[i] = new Sequence(tf.newCache(options.draftCacheLength()));
        }
        this.logits = new float[options.slots() * draftVocabSize];
    }

    /** Tokens the draft model evaluated to follow the slots (prompts and accepted tokens; not its own drafts). */
    long tokensComputed() {
        return computed.get();
    }

    /** Cells of the slot's draft cache that hold its tokens from the window's start on (monitoring). */
    int cachedTokens(int slot) {
        Sequence d = seqs[slot];
        int i = 0;
        while (i < d.length && d.tokens[i] >= 0) {
            i++;
        }
        return i;
    }

    /** Bytes the draft caches hold; 0 after {@link #release}. */
    long bytes() {
        long n = 0;
        for (Sequence d : seqs) {
            KvCache c = d.cache;
            n += c == null ? 0 : c.bytes();
        }
        return n;
    }

    /**
     * A job starts in slot {@code s}: keep the common prefix of the draft cache and the prompt, and move the runs of
     * the prompt it holds at other positions, as the target's cache does; every other cell is marked unusable.
     */
    void start(Slot s, int[] prompt, boolean cachePrompt) {
        Sequence d = seqs[s.id];
        d.base = windowStart(prompt.length, d.tokens.length);
        if (d.base > 0) {
            prompt = Arrays.copyOfRange(prompt, d.base, prompt.length);
        }
        int reuse = 0;
        if (cachePrompt) {
            int n = Math.min(d.length, prompt.length);
            while (reuse < n && d.tokens[reuse] == prompt[reuse]) {
                reuse++;
            }
        }
        List<ChunkReuse.Move> moves = cachePrompt && options.cacheReuse() > 0
                ? ChunkReuse.plan(d.tokens, d.length, prompt, reuse, options.cacheReuse()) : List.of();
        for (ChunkReuse.Move m : ChunkReuse.executionOrder(moves)) {
            tf.shiftCache(d.cache, m.from(), m.to(), m.length());
        }
        int end = reuse;
        for (ChunkReuse.Move m : moves) {
            end = Math.max(end, m.to() + m.length());
        }
        Arrays.fill(d.tokens, reuse, Math.max(end, d.length), -1);
        for (ChunkReuse.Move m : moves) {
            System.arraycopy(prompt, m.to(), d.tokens, m.to(), m.length());
        }
        d.length = end;
    }

    /**
     * Where a window of {@code cells} cells starts for {@code length} tokens and a full draft: 0 while they fit, else
     * past the overflow by a quarter of the window.
     */
    private int windowStart(int length, int cells) {
        int need = length + options.draftMax() + 1;
        return need <= cells ? 0 : Math.min(length, need - cells + cells / 4);
    }

    /** Moves the slot's window forward when its tokens and a full draft no longer fit (see the class comment). */
    private void makeRoom(Slot s, Sequence d) {
        int cells = d.tokens.length;
        if (s.length - d.base + options.draftMax() + 1 <= cells) {
            return;
        }
        int base = windowStart(s.length, cells);
        int by = base - d.base;
        int kept = Math.max(0, d.length - by);
        tf.shiftCache(d.cache, by, 0, kept);
        System.arraycopy(d.tokens, by, d.tokens, 0, kept);
        Arrays.fill(d.tokens, kept, Math.max(kept, d.length), -1);
        d.length = kept;
        d.base = base;
    }

    /**
     * Brings every active slot's draft cache in step with it and drafts for each slot whose {@link Slot#draftRoom}
     * is positive, writing {@link Slot#draft} and {@link Slot#drafts} (0 when the draft is shorter than
     * {@code draftMin}). Returns the drafted tokens that will be verified.
     */
    int draft(Slot[] slots) {
        batch.clear();
        int budget = options.stepTokens();
        int rows = 0;
        for (Slot s : slots) {
            Sequence d = seqs[s.id];
            d.drafting = false;
            d.proposed = false;
            s.drafts = 0;
            if (s.job == null || d.cache == null) {
                continue;
            }
            makeRoom(s, d);
            int added = followSlot(s, d, budget);
            budget -= added;
            computed.addAndGet(added);
            int cell = s.length - d.base;
            if (d.inStep && s.draftRoom > 0 && s.pending >= 0 && s.pending < draftVocabSize) {
                batch.add(s.pending, cell, d.cache, true);
                d.tokens[cell] = s.pending;
                d.length = cell + 1;
                d.drafting = true;
                d.proposed = true;
                d.maxDraft = s.draftRoom;
                d.count = 0;
                d.row = rows++;
            }
        }
        while (batch.size() > 0) {
            tf.forward(batch, logits, pool);
            batch.clear();
            rows = 0;
            for (Slot s : slots) {
                Sequence d = seqs[s.id];
                if (!d.drafting) {
                    continue;
                }
                int off = d.row * draftVocabSize;
                int tok = argmax(logits, off, draftVocabSize);
                if (tok >= targetVocabSize) { // padding the target cannot verify
                    d.drafting = false;
                    continue;
                }
                s.draft[d.count++] = tok;
                if (d.count >= d.maxDraft
                        || probability(logits, off, draftVocabSize, tok) < s.speculation.minP(options.draftPMin())
                        || targetVocab.isEog(tok)) {
                    d.drafting = false;
                    continue;
                }
                // the pending token is at s.length, draft i at s.length + 1 + i
                int cell = s.length + d.count - d.base;
                batch.add(tok, cell, d.cache, true);
                d.tokens[cell] = tok;
                d.length = cell + 1;
                d.row = rows++;
            }
        }
        int total = 0;
        for (Slot s : slots) {
            Sequence d = seqs[s.id];
            if (d.proposed) {
                s.drafts = d.count >= Math.max(1, s.speculation.minDrafts(options.draftMin())) ? d.count : 0;
                total += s.drafts;
            }
        }
        return total;
    }

    /**
     * Adds to the batch the cells of the slot's tokens {@code [base, s.length)} that the draft cache does not hold, at
     * most {@code budget}, and marks them held. Sets {@link Sequence#inStep} when the cache then holds all of them.
     * Returns how many were added.
     */
    private int followSlot(Slot s, Sequence d, int budget) {
        int base = d.base;
        int cells = s.length - base;
        int upTo = Math.min(d.length, cells);
        int c = 0;
        while (c < upTo && d.tokens[c] == s.tokens[base + c]) {
            c++;
        }
        int added = 0;
        d.inStep = false;
        for (; c < cells; c++) {
            if (c < d.length && d.tokens[c] == s.tokens[base + c]) {
                continue; // a moved run
            }
            int tok = s.tokens[base + c];
            if (added == budget || tok < 0 || tok >= draftVocabSize) {
                d.length = Math.max(d.length, c);
                return added;
            }
            batch.add(tok, c, d.cache, false);
            d.tokens[c] = tok;
            added++;
        }
        d.length = Math.max(d.length, cells);
        d.inStep = true;
        return added;
    }

    /**
     * After the target verified the slot's drafts (called before a finished job's listener hears of it): the cells
     * beyond what the target accepted are dropped, as the target's are.
     */
    void afterVerify(Slot s) {
        Sequence d = seqs[s.id];
        if (d.proposed && d.length > s.length - d.base) {
            d.length = s.length - d.base;
        }
        d.proposed = false;
    }

    /** The slot's cache contents are unknown (an engine failure): nothing in the draft cache is reused. */
    void forget(int slot) {
        seqs[slot].length = 0;
    }

    /** Drops the caches (the scheduler is closed). */
    void release() {
        for (Sequence d : seqs) {
            d.cache = null;
            d.length = 0;
        }
    }

    private static int argmax(float[] l, int off, int n) {
        int best = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (l[off + i] > max) {
                max = l[off + i];
                best = i;
            }
        }
        return best;
    }

    /** Softmax probability of {@code tok} over the whole row. */
    private static double probability(float[] l, int off, int n, int tok) {
        float max = l[off + tok];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float x = l[off + i];
            if (x == x) { // NaN logits count for nothing
                sum += Math.exp(x - max);
            }
        }
        return 1.0 / sum;
    }
}
