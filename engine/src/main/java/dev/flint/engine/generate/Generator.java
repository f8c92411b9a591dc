package dev.flint.engine.generate;

import dev.flint.engine.sampling.Sampler;
import dev.flint.engine.tokenizer.Detokenizer;
import dev.flint.engine.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * The generation loop: prefill the prompt (reusing the session's cached prefix), then sample, stream and evaluate one
 * token at a time until an end-of-generation token, a stop string, the token limit, a full context or cancellation.
 * Cancellation is checked before every decode step and between prompt batches.
 */
public final class Generator {
    private final Tokenizer tokenizer;

    public Generator(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public GenerationResult generate(Session session, GenerationRequest req, TokenListener listener) {
        long t0 = System.nanoTime();
        int nVocab = session.logits().length;
        int reused;
        try {
            reused = session.prefill(req.prompt(), req.cancellation());
        } catch (CancelledException e) {
            return finish(new int[0], 0, "", FinishReason.CANCELLED, req, 0, t0, System.nanoTime(), -1);
        }
        long tPrompt = System.nanoTime();
        Sampler sampler = new Sampler(req.sampling(), nVocab);
        for (int t : req.prompt()) {
            sampler.accept(t);
        }
        StopMatcher stops = new StopMatcher(req.stop());
        Detokenizer detok = tokenizer.detokenizer();
        StringBuilder text = new StringBuilder();
        int emitted = 0;
        int[] out = new int[Math.min(req.maxTokens(), 1024)];
        int n = 0;
        long tFirst = -1;
        FinishReason reason = FinishReason.LENGTH;
        while (n < req.maxTokens()) {
            if (req.cancellation().isCancelled()) {
                reason = FinishReason.CANCELLED;
                break;
            }
            int tok = sampler.sample(session.logits(), nVocab);
            sampler.accept(tok);
            if (tFirst < 0) {
                tFirst = System.nanoTime();
            }
            if (!req.ignoreEos() && tokenizer.vocabulary().isEog(tok)) {
                reason = FinishReason.EOS;
                break;
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
                break;
            }
            int safe = stops.safeLength(text);
            listener.onToken(tok, safe > emitted ? text.substring(emitted, safe) : "");
            emitted = Math.max(emitted, safe);
            if (n == req.maxTokens()) {
                break; // no need to evaluate a token nobody will sample after
            }
            if (req.cancellation().isCancelled()) {
                reason = FinishReason.CANCELLED; // checked again here so a cancel costs no further forward pass
                break;
            }
            if (session.length() >= session.capacity()) {
                reason = FinishReason.CONTEXT;
                break;
            }
            session.append(tok);
        }
        if (reason != FinishReason.STOP) {
            text.append(detok.flush());
            if (text.length() > emitted) {
                listener.onToken(-1, text.substring(emitted));
            }
        }
        return finish(Arrays.copyOf(out, n), reused, text.toString(), reason, req, reused, t0, tPrompt, tFirst);
    }

    private static GenerationResult finish(int[] tokens, int cached, String text, FinishReason reason,
                                           GenerationRequest req, int reused, long t0, long tPrompt, long tFirst) {
        long end = System.nanoTime();
        double promptMs = (tPrompt - t0) / 1e6;
        double firstMs = tFirst < 0 ? -1 : (tFirst - t0) / 1e6;
        double genMs = (end - tPrompt) / 1e6;
        return new GenerationResult(tokens, text, reason, req.prompt().length, reused,
                new GenerationResult.Timings(promptMs, firstMs, genMs, (end - t0) / 1e6));
    }
}
