package dev.flint.engine.generate;

import dev.flint.engine.sampling.Sampler;
import dev.flint.engine.spec.NgramDrafter;
import dev.flint.engine.tokenizer.Detokenizer;
import dev.flint.engine.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * The generation loop: prefill the prompt (reusing the session's cached prefix), then sample, stream and evaluate one
 * token at a time until an end-of-generation token, a stop string, the token limit, a full context or cancellation.
 * Cancellation is checked before every decode step and between prompt batches.
 *
 * <p>With greedy sampling and {@code maxDraft > 0}, decode steps are speculative: an {@link NgramDrafter} proposes
 * the tokens that followed the same n-gram earlier in the context, one forward pass evaluates the sampled token and
 * the draft together, and drafts are accepted while they equal what the sampler picks from the verified logits. The
 * sampler sees exactly the logits sequence plain decoding would give it, so the output is identical.
 */
public final class Generator {
    private final Tokenizer tokenizer;
    private final int maxDraft;
    private final NgramDrafter drafter = new NgramDrafter(2, 4);

    public Generator(Tokenizer tokenizer) {
        this(tokenizer, 0);
    }

    public Generator(Tokenizer tokenizer, int maxDraft) {
        this.tokenizer = tokenizer;
        this.maxDraft = Math.max(0, maxDraft);
    }

    /** Per-request state of the loop: what has been produced and streamed so far. */
    private final class Run {
        final GenerationRequest req;
        final TokenListener listener;
        final StopMatcher stops;
        final Detokenizer detok = tokenizer.detokenizer();
        final StringBuilder text = new StringBuilder();
        int emitted;
        int[] out;
        int n;
        long tFirst = -1;
        FinishReason reason;

        Run(GenerationRequest req, TokenListener listener) {
            this.req = req;
            this.listener = listener;
            this.stops = new StopMatcher(req.stop());
            this.out = new int[Math.max(1, Math.min(req.maxTokens(), 1024))];
        }

        /** Streams one sampled token; returns false when it ends the generation. */
        boolean emit(int tok) {
            if (tFirst < 0) {
                tFirst = System.nanoTime();
            }
            if (!req.ignoreEos() && tokenizer.vocabulary().isEog(tok)) {
                reason = FinishReason.EOS;
                return false;
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, out.length * 2);
            }
            out[n++] = tok;
            int before = text.length();
            text.append(detok.push(tok));
            int stopAt = stops.find(text, before);
            if (stopAt >= 0) {
                text.setLength(stopAt);
                if (stopAt > emitted) {
                    listener.onToken(tok, text.substring(emitted));
                }
                emitted = text.length();
                reason = FinishReason.STOP;
                return false;
            }
            int safe = stops.safeLength(text);
            listener.onToken(tok, safe > emitted ? text.substring(emitted, safe) : "");
            emitted = Math.max(emitted, safe);
            if (n >= req.maxTokens()) {
                reason = FinishReason.LENGTH;
                return false;
            }
            return true;
        }
    }

    public GenerationResult generate(Session session, GenerationRequest req, TokenListener listener) {
        long t0 = System.nanoTime();
        int nVocab = session.logits().length;
        int reused;
        try {
            reused = session.prefill(req.prompt(), req.cancellation());
        } catch (CancelledException e) {
            return result(new Run(req, listener), FinishReason.CANCELLED, 0, t0, System.nanoTime(), 0, 0);
        }
        long tPrompt = System.nanoTime();
        Run run = new Run(req, listener);
        if (req.maxTokens() == 0) {
            return result(run, FinishReason.LENGTH, reused, t0, tPrompt, 0, 0); // a cache-filling request
        }
        Sampler sampler = new Sampler(req.sampling(), nVocab);
        for (int t : req.prompt()) {
            sampler.accept(t);
        }
        boolean speculate = maxDraft > 0 && req.sampling().isGreedy();
        int[] ctx = speculate ? Arrays.copyOf(req.prompt(), req.prompt().length + req.maxTokens() + maxDraft + 1) : null;
        int ctxLen = req.prompt().length;
        int[] batch = new int[maxDraft + 1];
        float[] verify = speculate ? new float[(maxDraft + 1) * nVocab] : null;
        int drafted = 0;
        int accepted = 0;

        int next = sampleAndAccept(sampler, session.logits(), 0, nVocab);
        FinishReason reason = null;
        decode:
        while (true) {
            if (req.cancellation().isCancelled()) {
                reason = FinishReason.CANCELLED;
                break;
            }
            if (!run.emit(next)) {
                break;
            }
            if (req.cancellation().isCancelled()) {
                reason = FinishReason.CANCELLED; // checked again so a cancel costs no further forward pass
                break;
            }
            if (session.length() >= session.capacity()) {
                reason = FinishReason.CONTEXT;
                break;
            }
            int k = 0;
            if (speculate) {
                ctx[ctxLen++] = next;
                int room = Math.min(Math.min(maxDraft, req.maxTokens() - run.n), session.capacity() - session.length() - 1);
                k = room > 0 ? drafter.draft(ctx, ctxLen, room, batch) : 0;
            }
            if (k == 0) {
                session.append(next);
                next = sampleAndAccept(sampler, session.logits(), 0, nVocab);
                continue;
            }
            // verify [next, d0 .. dk-1] in one pass; row i holds the logits after batch[i]
            System.arraycopy(batch, 0, batch, 1, k);
            batch[0] = next;
            int base = session.length();
            session.appendAll(batch, 0, k + 1, verify);
            drafted += k;
            for (int i = 0; i < k; i++) {
                int g = sampleAndAccept(sampler, verify, i * nVocab, nVocab);
                if (g != batch[i + 1]) {
                    session.truncate(base + 1 + i); // drop the rejected drafts; g is evaluated next
                    next = g;
                    continue decode;
                }
                accepted++;
                if (!run.emit(g)) {
                    break decode;
                }
                ctx[ctxLen++] = g;
            }
            next = sampleAndAccept(sampler, verify, k * nVocab, nVocab);
        }
        if (reason == null) {
            reason = run.reason;
        }
        if (reason != FinishReason.STOP) {
            run.text.append(run.detok.flush());
            if (run.text.length() > run.emitted) {
                listener.onToken(-1, run.text.substring(run.emitted));
            }
        }
        return result(run, reason, reused, t0, tPrompt, drafted, accepted);
    }

    private static int sampleAndAccept(Sampler sampler, float[] logits, int off, int nVocab) {
        int tok = sampler.sample(logits, off, nVocab);
        sampler.accept(tok);
        return tok;
    }

    private GenerationResult result(Run run, FinishReason reason, int reused, long t0, long tPrompt, int drafted,
                                    int accepted) {
        long end = System.nanoTime();
        double firstMs = run.tFirst < 0 ? -1 : (run.tFirst - t0) / 1e6;
        return new GenerationResult(Arrays.copyOf(run.out, run.n), run.text.toString(), reason,
                run.req.prompt().length, reused,
                new GenerationResult.Timings((tPrompt - t0) / 1e6, firstMs, (end - tPrompt) / 1e6, (end - t0) / 1e6),
                drafted, accepted);
    }
}
