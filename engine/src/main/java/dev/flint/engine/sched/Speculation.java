package dev.flint.engine.sched;

/**
 * A request's own speculative-decoding limits (llama.cpp's {@code speculative.n_max}, {@code speculative.n_min} and
 * {@code speculative.p_min}); each value below 0 means the server's setting. A request can draft fewer tokens than
 * the server allows, never more: the slots' draft buffers and the verification batches are sized at start.
 *
 * @param maxDrafts tokens drafted per step at most (0: no speculation for this request)
 * @param minDrafts fewer drafts than this are not verified
 * @param minP      the draft model stops drafting after a token less probable than this
 */
public record Speculation(int maxDrafts, int minDrafts, float minP) {
    /** The server's settings throughout. */
    public static final Speculation SERVER = new Speculation(-1, -1, -1f);

    public Speculation {
        if (minP > 1f || Float.isNaN(minP)) {
            throw new IllegalArgumentException("speculative p-min must be at most 1, got " + minP);
        }
    }

    int maxDrafts(int server) {
        return maxDrafts < 0 ? server : Math.min(maxDrafts, server);
    }

    int minDrafts(int server) {
        return minDrafts < 0 ? server : minDrafts;
    }

    float minP(float server) {
        return minP < 0f ? server : minP;
    }
}
