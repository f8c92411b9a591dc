package dev.flint.engine.sched;

import dev.flint.engine.Engine;
import dev.flint.engine.generate.ContextOverflowException;
import dev.flint.engine.generate.FinishReason;
import dev.flint.engine.generate.StopMatcher;
import dev.flint.engine.kv.PrefixTree;
import dev.flint.engine.model.Batch;
import dev.flint.engine.model.Transformer;
import dev.flint.engine.sampling.Sampler;
import dev.flint.engine.spec.DraftModel;
import dev.flint.engine.spec.NgramDrafter;
import dev.flint.engine.tokenizer.Vocabulary;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs many jobs on one model with continuous batching: N slots, each with its own KV cache; one loop thread that,
 * every step, puts the next token of every decoding slot and a chunk of every prefilling slot's prompt into ONE
 * batch, runs one forward pass, then samples for each slot whose logits came out. Jobs wait in a bounded FIFO queue
 * for a free slot. Cancellation is checked for every slot before every step, so a cancelled job costs at most the
 * step that was already running. Knows nothing about HTTP: transports submit {@link Job}s and receive
 * {@link JobListener} callbacks.
 *
 * <p>Over the ~500 lines a class should have: the loop's phases (admission, batch building, sampling, the stop
 * rules) share the slots' state and are easier to follow in one place; speculation with a draft model lives in
 * {@link ModelDrafter}, reuse of moved runs in {@link ChunkReuse}.
 */
public final class Scheduler implements AutoCloseable {
    /** A submitted job and what the scheduler tracks about it. */
    record Entry(long id, Job job, JobListener listener, long tSubmit) {
    }

    /** What {@link #submit} returns: a handle to cancel the job. */
    public final class Ticket {
        private final Entry entry;

        private Ticket(Entry entry) {
            this.entry = entry;
        }

        public long id() {
            return entry.id;
        }

        /** Stops the job before the scheduler's next step; its listener gets a CANCELLED completion. */
        public void cancel() {
            entry.job.cancellation().cancel();
            wake();
        }
    }

    private final Engine engine;
    private final Transformer transformer;
    private final Vocabulary vocab;
    private final SchedulerOptions options;
    private final Slot[] slots;
    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final Batch batch = new Batch();
    private final float[] logits;
    private final int nVocab;
    private final Thread loop;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong decodeSteps = new AtomicLong();
    private final AtomicLong promptComputed = new AtomicLong();
    private final AtomicLong movedTokens = new AtomicLong();
    private final AtomicLong drafted = new AtomicLong();
    private final AtomicLong restoredTokens = new AtomicLong();
    private final PrefixTree prefixes;
    private static final int MIN_KEPT = 64;     // shorter sequences are cheap to recompute
    private static final int MIN_RESTORED = 16; // a copy from the tree must save at least this many tokens
    private final AtomicLong draftsAccepted = new AtomicLong();
    private final NgramDrafter drafter = new NgramDrafter(2, 4);
    private final ModelDrafter modelDrafter; // null: n-gram self-speculation (when draftMax > 0)
    private volatile int busy;
    private volatile boolean running = true;

    public Scheduler(Engine engine, SchedulerOptions options) {
        this(engine, options, null);
    }

    /**
     * @param draft a draft model sharing the engine's vocabulary (see {@link DraftModel#load}); null for n-gram
     *              self-speculation. It drafts when {@code options.draftMax() > 0}; the caller keeps ownership.
     */
    public Scheduler(Engine engine, SchedulerOptions options, DraftModel draft) {
        this.engine = engine;
        this.transformer = engine.model().transformer();
        this.vocab = engine.tokenizer().vocabulary();
        this.options = options;
        this.nVocab = transformer.vocabularySize();
        this.slots = new Slot[options.slots()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(i, transformer.newCache(options.contextLength()), options.draftMax());
        }
        // the tree's entries are native memory; at most a quarter of the heap's limit, whatever was asked, as a
        // measure of what the process was given
        long treeBytes = Math.min((long) options.cacheRamMiB() << 20, Runtime.getRuntime().maxMemory() / 4);
        this.prefixes = options.cacheRamMiB() > 0
                ? new PrefixTree(slots[0].cache.layers(), slots[0].cache.kvDim(), treeBytes) : null;
        if (prefixes != null && engine.options().warmup()) {
            PrefixTree.warmUp(slots[0].cache.layers(), slots[0].cache.kvDim());
        }
        this.logits = new float[options.slots() * (1 + options.draftMax()) * nVocab];
        this.modelDrafter = draft != null && options.draftMax() > 0
                ? new ModelDrafter(draft, engine.pool(), vocab, nVocab, options) : null;
        this.loop = Thread.ofPlatform().name("flint-scheduler").daemon(true).start(this::run);
    }

    public SchedulerOptions options() {
        return options;
    }

    /**
     * Queues a job. The listener is called on the loop thread.
     *
     * @throws ContextOverflowException if the prompt does not fit in a slot's context
     * @throws QueueFullException       if the queue is full
     */
    public Ticket submit(Job job, JobListener listener) {
        if (job.prompt().length >= options.contextLength()) {
            throw new ContextOverflowException(job.prompt().length + 1, options.contextLength());
        }
        if (job.slot() >= slots.length) {
            throw new IllegalArgumentException("slot " + job.slot() + " does not exist; the server has "
                    + slots.length + " slots (0.." + (slots.length - 1) + ")");
        }
        Entry e = new Entry(ids.incrementAndGet(), job, listener, System.nanoTime());
        lock.lock();
        try {
            if (!running) {
                throw new IllegalStateException("the scheduler is shut down");
            }
            // jobs that idle slots will take at the next step do not count as waiting
            if (queue.size() >= options.queueCapacity() + freeSlots()) {
                throw new QueueFullException(options.queueCapacity());
            }
            queue.add(e);
            work.signal();
        } finally {
            lock.unlock();
        }
        return new Ticket(e);
    }

    /** Jobs waiting for a slot. */
    public int queueDepth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    public int busySlots() {
        return busy;
    }

    public int slotCount() {
        return slots.length;
    }

    /** Forward passes run so far. */
    public long steps() {
        return steps.get();
    }

    /** Decode tokens evaluated so far, summed over slots. */
    /** Prompt tokens evaluated by forward passes since start (reused ones are not). */
    public long promptTokensComputed() {
        return promptComputed.get();
    }

    /** Prompt tokens reused by moving cached runs to new positions since start (see {@link ChunkReuse}). */
    public long promptTokensMoved() {
        return movedTokens.get();
    }

    /** Prompt tokens taken from the prefix tree (sequences that other prompts had displaced) since start. */
    public long promptTokensRestored() {
        return restoredTokens.get();
    }

    /** Bytes the prefix tree holds (0 when it is off). Racy, for monitoring. */
    public long prefixCacheBytes() {
        PrefixTree t = prefixes;
        return t == null ? 0 : t.bytes();
    }

    /** Tokens proposed for verification since start, by the draft model or n-gram self-speculation. */
    public long draftedTokens() {
        return drafted.get();
    }

    /** Drafted tokens that the model confirmed (each saved a forward pass of its own). */
    public long acceptedDraftTokens() {
        return draftsAccepted.get();
    }

    public long decodeSteps() {
        return decodeSteps.get();
    }

    /** True when a draft model drafts (else n-gram self-speculation does, if {@code draftMax > 0}). */
    public boolean hasDraftModel() {
        return modelDrafter != null;
    }

    /**
     * Tokens the draft model evaluated to follow the slots since start (prompts, accepted tokens), not counting its
     * own drafts; moved runs and common prefixes it reused are not evaluated. 0 without a draft model.
     */
    public long draftTokensComputed() {
        ModelDrafter d = modelDrafter;
        return d == null ? 0 : d.tokensComputed();
    }

    /** Bytes of the slots' draft-model KV caches (0 without a draft model, and after {@link #close}). */
    public long draftCacheBytes() {
        ModelDrafter d = modelDrafter;
        return d == null ? 0 : d.bytes();
    }

    /** A snapshot of one slot for monitoring ({@code /slots}). */
    public record SlotState(int id, boolean processing, long jobId, int cachedTokens, int promptTokens,
                            int generatedTokens, int draftCachedTokens) {
    }

    /** Racy snapshot, good enough for monitoring. */
    public SlotState[] slotStates() {
        SlotState[] out = new SlotState[slots.length];
        for (int i = 0; i < slots.length; i++) {
            Slot s = slots[i];
            Entry e = s.job;
            out[i] = new SlotState(i, e != null, e == null ? -1 : e.id, s.length,
                    e == null ? 0 : e.job.prompt().length, s.generated,
                    modelDrafter == null ? 0 : modelDrafter.cachedTokens(i));
        }
        return out;
    }

    private void wake() {
        lock.lock();
        try {
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    private int freeSlots() {
        int n = 0;
        for (Slot s : slots) {
            n += s.idle() ? 1 : 0;
        }
        return n;
    }

    private void run() {
        while (running) {
            try {
                if (!admit()) {
                    continue;
                }
                step();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | Error e) {
                failAll(e);
            }
        }
    }

    /** Moves queued jobs into free slots; waits while there is nothing to do. Returns false to re-check. */
    private boolean admit() throws InterruptedException {
        lock.lock();
        try {
            for (Iterator<Entry> it = queue.iterator(); it.hasNext(); ) {
                Entry e = it.next();
                if (e.job.cancellation().isCancelled()) {
                    it.remove();
                    e.listener.onDone(done(e, null, FinishReason.CANCELLED, null));
                    continue;
                }
                Slot s = pick(e.job);
                if (s != null) {
                    it.remove();
                    start(s, e);
                }
            }
            busy = slots.length - freeSlots();
            if (busy == 0) {
                work.await();
                return false;
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The pinned slot if idle; else the idle slot sharing the longest prefix; ties go to the least recently used. */
    private Slot pick(Job job) {
        if (job.slot() >= 0) {
            Slot s = slots[job.slot()];
            return s.idle() ? s : null;
        }
        Slot best = null;
        int bestPrefix = -1;
        for (Slot s : slots) {
            if (!s.idle()) {
                continue;
            }
            int p = job.cachePrompt() ? s.commonPrefix(job.prompt()) : 0;
            if (p > bestPrefix || (p == bestPrefix && s.lastUsed < best.lastUsed)) {
                best = s;
                bestPrefix = p;
            }
        }
        return best;
    }

    private void start(Slot s, Entry e) {
        Job job = e.job;
        s.job = e;
        s.tStart = System.nanoTime();
        s.tFirst = -1;
        s.tPromptDone = -1;
        int reuse = job.cachePrompt() ? Math.min(s.commonPrefix(job.prompt()), job.prompt().length - 1) : 0;
        int held = s.length;
        if (prefixes != null && job.cachePrompt()) {
            reuse = fromPrefixTree(s, job.prompt(), reuse, held);
        }
        s.length = reuse;
        s.cached = reuse;
        s.moved = 0;
        s.promptPos = reuse;
        if (job.cachePrompt() && options.cacheReuse() > 0) {
            reuseMovedRuns(s, held, job.prompt(), reuse);
        }
        if (modelDrafter != null) {
            modelDrafter.start(s, job.prompt(), job.cachePrompt());
        }
        s.sampler = new Sampler(job.sampling(), nVocab);
        for (int t : job.prompt()) {
            s.sampler.accept(t);
        }
        s.detok = engine.tokenizer().detokenizer();
        s.stops = new StopMatcher(job.stop());
    }

    /**
     * Keeps the slot's sequence in the prefix tree when the new prompt would displace most of it, then takes from the
     * tree a longer prefix of the prompt than the slot holds, if there is one. Returns the prompt tokens now cached.
     */
    private int fromPrefixTree(Slot s, int[] prompt, int reuse, int held) {
        int whole = s.validPrefix(held); // up to a hole left by a cancelled prompt
        if (whole >= MIN_KEPT && reuse < whole / 2 && keptByMoves(s, held, prompt, reuse) < whole / 2 - reuse) {
            prefixes.insert(s.tokens, whole, s.cache);
        }
        PrefixTree.Match m = prefixes.longestPrefix(prompt, prompt.length - 1);
        if (m.length() < reuse + MIN_RESTORED) {
            return reuse;
        }
        prefixes.restore(m, s.cache, reuse);
        s.ensureTokens(m.length());
        System.arraycopy(prompt, reuse, s.tokens, reuse, m.length() - reuse);
        restoredTokens.addAndGet(m.length() - reuse);
        return m.length();
    }

    /**
     * Tokens of the slot's sequence that the moved runs ({@link #reuseMovedRuns}) will keep for this prompt. A key
     * typed in the first half of a fill-in-the-middle prompt shares less than half of it as a prefix, but the suffix
     * only moves: the slot keeps it, and storing it in the prefix tree as well cost each such key about a fifth of
     * its time (the tree converts and copies a few megabytes).
     */
    private int keptByMoves(Slot s, int held, int[] prompt, int reuse) {
        if (options.cacheReuse() <= 0) {
            return 0;
        }
        int kept = 0;
        for (ChunkReuse.Move m : ChunkReuse.plan(s.tokens, held, prompt, reuse, options.cacheReuse())) {
            kept += m.length();
        }
        return kept;
    }

    /**
     * Moves the runs of the prompt that the slot's cache holds elsewhere to their new positions (see
     * {@link ChunkReuse}); prefill then skips them. The cache's old contents beyond the common prefix are used only
     * here, so moving over them is safe.
     */
    private void reuseMovedRuns(Slot s, int held, int[] prompt, int reuse) {
        List<ChunkReuse.Move> moves = ChunkReuse.plan(s.tokens, held, prompt, reuse, options.cacheReuse());
        if (moves.isEmpty()) {
            return;
        }
        for (ChunkReuse.Move m : ChunkReuse.executionOrder(moves)) {
            transformer.shiftCache(s.cache, m.from(), m.to(), m.length());
        }
        s.ensureTokens(prompt.length);
        s.runStart = new int[moves.size()];
        s.runLength = new int[moves.size()];
        int i = 0;
        for (ChunkReuse.Move m : moves) {
            System.arraycopy(prompt, m.to(), s.tokens, m.to(), m.length());
            s.runStart[i] = m.to();
            s.runLength[i++] = m.length();
            s.moved += m.length();
        }
        s.cached += s.moved;
        movedTokens.addAndGet(s.moved);
    }

    /** One forward pass over every active slot's next work. */
    private void step() {
        batch.clear();
        int row = 0;
        int budget = Math.max(options.stepTokens(), slots.length);
        for (Slot s : slots) {
            s.logitRow = -1;
            if (s.job != null && s.job.job.cancellation().isCancelled()) {
                finish(s, FinishReason.CANCELLED, null);
            }
        }
        if (modelDrafter != null) {
            draftWithModel(budget);
        }
        // decode tokens first: they are what users are waiting on
        for (Slot s : slots) {
            if (s.job == null || s.prefilling()) {
                continue;
            }
            batch.add(s.pending, s.length, s.cache, true);
            s.push(s.pending);
            s.decodeSteps++;
            decodeSteps.incrementAndGet();
            s.logitRow = row++;
            budget--;
            if (modelDrafter == null) {
                s.drafts = draft(s, budget - slots.length);
            }
            for (int i = 0; i < s.drafts; i++) {
                batch.add(s.draft[i], s.length, s.cache, true);
                s.push(s.draft[i]);
                row++;
            }
            budget -= s.drafts;
        }
        for (Slot s : slots) {
            if (s.job == null || !s.prefilling() || budget <= 0) {
                continue;
            }
            int[] prompt = s.job.job.prompt();
            while (budget > 0 && s.promptPos < prompt.length) {
                int run = s.runAt(s.promptPos);
                if (run > 0) { // already in the cache, moved there at the start
                    s.promptPos += run;
                    s.length += run;
                    continue;
                }
                boolean last = s.promptPos + 1 == prompt.length;
                batch.add(prompt[s.promptPos], s.length, s.cache, last);
                s.push(prompt[s.promptPos]);
                s.promptPos++;
                budget--;
                promptComputed.incrementAndGet();
                if (last) {
                    s.logitRow = row++;
                }
            }
        }
        if (batch.size() == 0) {
            return;
        }
        transformer.forward(batch, logits, engine.pool());
        steps.incrementAndGet();
        for (Slot s : slots) {
            if (s.job != null && s.logitRow >= 0) {
                afterLogits(s);
                if (modelDrafter != null) {
                    modelDrafter.afterVerify(s);
                }
            }
        }
    }

    /**
     * Lets the draft model draft for every decoding slot, within the same limits n-gram drafts have (the step's
     * token budget, the job's token limit, the context), and keeps its caches following the prefilling slots.
     */
    private void draftWithModel(int budget) {
        for (Slot s : slots) {
            s.draftRoom = 0;
            if (s.job == null || s.prefilling()) {
                continue;
            }
            budget--;
            s.draftRoom = draftRoom(s, budget - slots.length, s.length + 1);
            s.speculation = s.job.job.speculation();
            budget -= s.draftRoom;
        }
        drafted.addAndGet(modelDrafter.draft(slots));
    }

    /**
     * How many drafts may follow the slot's pending token: within {@code room}, the job's token limit (each accepted
     * draft and the token after the last one are emitted) and the context, after the pending token brings the slot
     * to {@code length} cells, and the job's own {@link Speculation} limits. 0 when below the minimum.
     */
    private int draftRoom(Slot s, int room, int length) {
        Job job = s.job.job;
        Speculation spec = job.speculation();
        int n = Math.min(Math.min(spec.maxDrafts(s.draft.length), room), job.maxTokens() - s.generated - 1);
        n = Math.min(n, s.cache.capacity() - length - 1);
        return n < Math.max(1, spec.minDrafts(options.draftMin())) ? 0 : n;
    }

    /**
     * Drafts tokens to follow the slot's context (n-gram self-speculation); they are verified in the same forward
     * pass. Returns how many, within the job's token limit, the context and {@code room}; 0 when fewer than
     * {@code draftMin} were found.
     */
    private int draft(Slot s, int room) {
        if (s.draft.length == 0) {
            return 0;
        }
        int n = draftRoom(s, room, s.length);
        if (n <= 0) {
            return 0;
        }
        int k = drafter.draft(s.tokens, s.length, n, s.draft);
        if (k < s.job.job.speculation().minDrafts(options.draftMin())) {
            return 0;
        }
        drafted.addAndGet(k);
        return k;
    }

    /**
     * Samples from the slot's rows of logits: the token after its pending one, then, while drafts are confirmed,
     * the tokens after each of them. A draft that differs from what the sampler picks ends the run: the picked token
     * becomes the pending one and the cells of the rejected drafts are dropped. The output is the same as without
     * drafts, since every emitted token is the sampler's pick from logits over the same context: under greedy
     * sampling token for token; under random sampling in distribution, and token for token with the same seed, since
     * the sampler draws once per emitted token either way. (This is speculative sampling with a draft distribution
     * that puts all its mass on the drafted token: accepted with probability p(draft), and on rejection the token
     * drawn is distributed as p without the draft, which is the residual distribution of Leviathan et al.)
     */
    private void afterLogits(Slot s) {
        int k = s.drafts;
        s.drafts = 0;
        int base = s.length - 1 - k; // position of the pending token
        for (int i = 0; i <= k; i++) {
            s.length = base + 1 + i; // cells valid if the run stops here
            int tok = accept(s, s.logitRow + i);
            if (tok < 0 || i == k) {
                return;
            }
            if (tok != s.draft[i]) {
                return;
            }
            draftsAccepted.incrementAndGet();
        }
    }

    /** Samples and emits one token from logits row {@code row}; returns it, or -1 if the job finished. */
    private int accept(Slot s, int row) {
        Job job = s.job.job;
        long now = System.nanoTime();
        if (s.tPromptDone < 0) {
            s.tPromptDone = now;
            if (job.maxTokens() == 0) {
                finish(s, FinishReason.LENGTH, null); // a cache-filling request
                return -1;
            }
        }
        int tok = s.sampler.sample(logits, row * nVocab, nVocab);
        s.sampler.accept(tok);
        if (s.tFirst < 0) {
            s.tFirst = now;
        }
        if (!job.ignoreEos() && vocab.isEog(tok)) {
            finish(s, FinishReason.EOS, null);
            return -1;
        }
        s.generated++;
        int before = s.text.length();
        s.text.append(s.detok.push(tok));
        int stopAt = s.stops.find(s.text, before);
        if (stopAt >= 0) {
            String word = matchedStop(job, s.text, stopAt);
            s.text.setLength(stopAt);
            if (stopAt > s.emitted) {
                s.job.listener.onDelta(tok, s.text.substring(s.emitted));
            }
            s.emitted = s.text.length();
            finish(s, FinishReason.STOP, word);
            return -1;
        }
        if (job.maxLines() > 0 && lineCut(s, job.maxLines())) {
            if (s.text.length() > s.emitted) {
                s.job.listener.onDelta(tok, s.text.substring(s.emitted));
                s.emitted = s.text.length();
            }
            finish(s, FinishReason.LENGTH, null);
            return -1;
        }
        if (job.minIndent() > 0 && indentCut(s, job.minIndent())) {
            if (s.text.length() > s.emitted) {
                s.job.listener.onDelta(tok, s.text.substring(s.emitted));
                s.emitted = s.text.length();
            }
            finish(s, FinishReason.LENGTH, null);
            return -1;
        }
        int safe = s.stops.safeLength(s.text);
        s.job.listener.onDelta(tok, safe > s.emitted ? s.text.substring(s.emitted, safe) : "");
        s.emitted = Math.max(s.emitted, safe);
        if (s.generated >= job.maxTokens()) {
            finish(s, FinishReason.LENGTH, null);
        } else if (s.length >= s.cache.capacity()) {
            finish(s, FinishReason.CONTEXT, null);
        } else if (job.maxPredictMs() > 0 && (now - s.tPromptDone) / 1_000_000 >= job.maxPredictMs()
                && s.text.indexOf("\n") >= 0) {
            finish(s, FinishReason.LENGTH, null); // time budget, applied after a newline as llama.cpp does
        } else {
            s.pending = tok;
            return tok;
        }
        return -1;
    }

    /**
     * True when the text holds {@code max} line breaks after its first non-blank character; the text is then cut
     * before the last of them. Checked on every token, so the cut is never in text already streamed (a token that
     * brings the break is examined before it is emitted).
     */
    private static boolean lineCut(Slot s, int max) {
        int i = 0;
        while (i < s.text.length() && Character.isWhitespace(s.text.charAt(i))) {
            i++;
        }
        int breaks = 0;
        for (; i < s.text.length(); i++) {
            if (s.text.charAt(i) == '\n' && ++breaks == max) {
                s.text.setLength(Math.max(i, s.emitted));
                return true;
            }
        }
        return false;
    }

    /**
     * True when the newest complete line start holds a non-blank character with less indentation than
     * {@code min}; the text is then cut at that character, as llama.cpp's {@code n_indent} does. Text already
     * streamed is never taken back: the cut only applies to the part not yet emitted.
     */
    private static boolean indentCut(Slot s, int min) {
        int nl = s.text.lastIndexOf("\n");
        if (nl < 0) {
            return false;
        }
        int pos = nl + 1;
        int indent = 0;
        while (pos < s.text.length() && (s.text.charAt(pos) == ' ' || s.text.charAt(pos) == '\t')) {
            pos++;
            indent++;
        }
        if (pos < s.text.length() && indent < min) {
            s.text.setLength(Math.max(pos, s.emitted));
            return true;
        }
        return false;
    }

    private static String matchedStop(Job job, CharSequence text, int at) {
        String t = text.toString();
        for (String w : job.stop()) {
            if (!w.isEmpty() && t.startsWith(w, at)) {
                return w;
            }
        }
        return "";
    }

    private void finish(Slot s, FinishReason reason, String stoppingWord) {
        Entry e = s.job;
        if (reason != FinishReason.STOP && s.detok != null) {
            s.text.append(s.detok.flush());
            if (s.text.length() > s.emitted) {
                e.listener.onDelta(-1, s.text.substring(s.emitted));
            }
        }
        Completion c = done(e, s, reason, stoppingWord);
        if (reason == FinishReason.CANCELLED && s.prefilling()) {
            keepWhatIsValid(s);
        }
        s.lastUsed = System.nanoTime();
        if (modelDrafter != null) {
            modelDrafter.afterVerify(s); // before the listener hears of it, so the slot is settled when it does
        }
        s.release();
        busy = slots.length - freeSlots();
        e.listener.onDone(c);
    }

    /**
     * A job cancelled during its prompt leaves the cells it evaluated and the runs it moved (an editor cancels most
     * requests while typing, and the next keystroke's prompt needs exactly those). Positions in between that were
     * never evaluated are marked with token -1, which matches no prompt, so neither prefix nor run reuse takes them.
     */
    private static void keepWhatIsValid(Slot s) {
        int valid = Math.min(s.length, s.promptPos);
        int end = valid;
        for (int i = 0; i < s.runStart.length; i++) {
            if (s.runStart[i] >= valid) {
                end = Math.max(end, s.runStart[i] + s.runLength[i]);
            }
        }
        for (int p = valid; p < end; p++) {
            boolean moved = false;
            for (int i = 0; i < s.runStart.length && !moved; i++) {
                moved = p >= s.runStart[i] && p < s.runStart[i] + s.runLength[i];
            }
            if (!moved) {
                s.tokens[p] = -1;
            }
        }
        s.length = end;
    }

    private Completion done(Entry e, Slot s, FinishReason reason, String word) {
        long now = System.nanoTime();
        double total = (now - e.tSubmit) / 1e6;
        if (s == null) {
            return new Completion("", reason, 0, e.job.prompt().length, 0, -1, "",
                    new Completion.Timings(total, 0, -1, 0, total), null);
        }
        double queue = (s.tStart - e.tSubmit) / 1e6;
        double prompt = s.tPromptDone < 0 ? (now - s.tStart) / 1e6 : (s.tPromptDone - s.tStart) / 1e6;
        double first = s.tFirst < 0 ? -1 : (s.tFirst - e.tSubmit) / 1e6;
        double predicted = s.tPromptDone < 0 ? 0 : (now - s.tPromptDone) / 1e6;
        return new Completion(s.text.toString(), reason, s.generated, e.job.prompt().length, s.cached, s.id,
                word == null ? "" : word, new Completion.Timings(queue, prompt, first, predicted, total), null);
    }

    private void failAll(Throwable t) {
        String msg = "engine failure: " + t;
        for (Slot s : slots) {
            if (s.job != null) {
                Entry e = s.job;
                Completion c = done(e, s, FinishReason.CANCELLED, null);
                s.length = 0;
                s.release();
                e.listener.onDone(new Completion(c.text(), c.finishReason(), c.generatedTokens(), c.promptTokens(),
                        c.cachedTokens(), c.slot(), "", c.timings(), msg));
            }
            if (modelDrafter != null) {
                modelDrafter.forget(s.id); // a pass may have failed midway: its cells are not to be trusted
            }
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            running = false;
            work.signal();
        } finally {
            lock.unlock();
        }
        loop.interrupt();
        try {
            loop.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (modelDrafter != null && !loop.isAlive()) {
            modelDrafter.release(); // the draft caches go with the slots; the model itself is the caller's
        }
        if (prefixes != null && !loop.isAlive()) {
            prefixes.close(); // native memory
        }
    }
}
