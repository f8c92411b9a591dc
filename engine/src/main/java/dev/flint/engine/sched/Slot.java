package dev.flint.engine.sched;

import dev.flint.engine.generate.StopMatcher;
import dev.flint.engine.kv.KvCache;
import dev.flint.engine.sampling.Sampler;
import dev.flint.engine.tokenizer.Detokenizer;

import java.util.Arrays;

/**
 * One sequence of the scheduler: its KV cache and the tokens it holds (kept after a job ends so the next job can
 * reuse the common prefix), plus the state of the job running in it. Touched only by the loop thread.
 */
final class Slot {
    final int id;
    final KvCache cache;
    int[] tokens;
    int length;
    long lastUsed;

    // the running job, null when idle
    Scheduler.Entry job;
    int promptPos;       // next prompt token to evaluate
    int cached;          // prompt tokens reused (common prefix and moved runs)
    int moved;           // of which moved runs
    int[] runStart = new int[0]; // prompt positions where a moved run starts (already in the cache), ascending
    int[] runLength = new int[0];
    int nextRun;
    int pending = -1;    // sampled token to evaluate in the next step (decode phase)
    Sampler sampler;
    Detokenizer detok;
    StopMatcher stops;
    final StringBuilder text = new StringBuilder();
    int emitted;
    int generated;
    long tStart;
    long tPromptDone;
    long tFirst;
    long decodeSteps;
    int logitRow = -1;   // row of this slot in the step's logits, or -1
    final int[] draft;   // tokens drafted this step (verified in rows logitRow + 1 ..)
    int drafts;
    int draftRoom;       // drafts this step may hold (set before the draft model drafts)
    Speculation speculation = Speculation.SERVER; // the job's own limits (set with draftRoom)

    Slot(int id, KvCache cache, int draftMax) {
        this.id = id;
        this.cache = cache;
        this.draft = new int[draftMax];
        this.tokens = new int[Math.min(cache.capacity(), 256)];
    }

    boolean idle() {
        return job == null;
    }

    boolean prefilling() {
        return job != null && promptPos < job.job().prompt().length;
    }

    int commonPrefix(int[] prompt) {
        int n = Math.min(length, prompt.length);
        int i = 0;
        while (i < n && tokens[i] == prompt[i]) {
            i++;
        }
        return i;
    }

    /** Tokens before the first hole (token -1) in {@code [0, upTo)}. */
    int validPrefix(int upTo) {
        int i = 0;
        while (i < upTo && tokens[i] >= 0) {
            i++;
        }
        return i;
    }

    /** Length of the moved run that starts at prompt position {@code pos}, or 0. */
    int runAt(int pos) {
        while (nextRun < runStart.length && runStart[nextRun] < pos) {
            nextRun++;
        }
        return nextRun < runStart.length && runStart[nextRun] == pos ? runLength[nextRun] : 0;
    }

    void ensureTokens(int n) {
        if (tokens.length < n) {
            tokens = Arrays.copyOf(tokens, Math.min(cache.capacity(), Math.max(n, tokens.length * 2)));
        }
    }

    void push(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.min(cache.capacity(), tokens.length * 2));
        }
        tokens[length++] = token;
    }

    void release() {
        job = null;
        runStart = runLength = new int[0];
        nextRun = 0;
        sampler = null;
        detok = null;
        stops = null;
        pending = -1;
        logitRow = -1;
        drafts = 0;
        draftRoom = 0;
        text.setLength(0);
        emitted = 0;
        generated = 0;
        decodeSteps = 0;
    }
}
