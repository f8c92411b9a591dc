package dev.flint.engine.spec;

import java.util.Arrays;

/**
 * Self-speculation from the context: code repeats itself (identifiers, closing brackets, the text after the cursor),
 * so when the last {@code n} tokens occurred earlier, the tokens that followed them then are a good guess for what
 * comes next. Tries the longest n-gram first ({@code maxN} down to {@code minN}) and drafts from its most recent
 * earlier occurrence. Cost is a backwards scan of the context per draft, negligible next to a forward pass.
 */
public final class NgramDrafter {
    private final int minN;
    private final int maxN;

    public NgramDrafter(int minN, int maxN) {
        if (minN < 1 || maxN < minN) {
            throw new IllegalArgumentException("need 1 <= minN <= maxN, got " + minN + ", " + maxN);
        }
        this.minN = minN;
        this.maxN = maxN;
    }

    /**
     * Proposes up to {@code maxDraft} tokens to follow {@code context[0 .. length)}; returns how many were written
     * to {@code draft}.
     */
    public int draft(int[] context, int length, int maxDraft, int[] draft) {
        for (int n = Math.min(maxN, length - 1); n >= minN; n--) {
            int tail = length - n;
            // most recent earlier occurrence of context[tail .. length)
            for (int start = tail - 1; start >= 0; start--) {
                if (matches(context, start, tail, n)) {
                    int from = start + n;
                    int k = Math.min(maxDraft, length - from);
                    System.arraycopy(context, from, draft, 0, k);
                    return k;
                }
            }
        }
        return 0;
    }

    private static boolean matches(int[] c, int a, int b, int n) {
        return Arrays.equals(c, a, a + n, c, b, b + n);
    }
}
