package dev.flint.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static final float[] LOGITS = {1f, 3f, 2f, 3f, -1f, 0.5f};

    private static int once(SamplerConfig c, float[] logits) {
        return new Sampler(c, logits.length).sample(logits, logits.length);
    }

    @Test
    void greedyPicksTheArgmaxAndTheLowestIdOnTies() {
        assertEquals(1, once(SamplerConfig.greedy(), LOGITS));
    }

    @Test
    void topKOfOneIsGreedyAtAnyTemperature() {
        SamplerConfig c = SamplerConfig.defaults().withTopK(1).withTemperature(5f).withSeed(1L);
        Sampler s = new Sampler(c, LOGITS.length);
        for (int i = 0; i < 50; i++) {
            assertEquals(1, s.sample(LOGITS, LOGITS.length));
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // softmax([10, 9, 0, ...]): p0 ~ 0.73, p1 ~ 0.27; top_p 0.5 keeps only token 0
        float[] l = {10f, 9f, 0f, 0f, 0f};
        SamplerConfig c = new SamplerConfig(1f, 0, 0.5f, 0f, 1f, 0f, 0f, 64, 7L);
        Sampler s = new Sampler(c, l.length);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, s.sample(l, l.length));
        }
        // top_p 0.9 keeps both
        Sampler both = new Sampler(new SamplerConfig(1f, 0, 0.9f, 0f, 1f, 0f, 0f, 64, 7L), l.length);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            seen.add(both.sample(l, l.length));
        }
        assertEquals(Set.of(0, 1), seen);
    }

    @Test
    void minPDropsTokensFarBelowTheBest() {
        float[] l = {5f, 4.9f, 0f};
        Sampler s = new Sampler(new SamplerConfig(1f, 0, 1f, 0.5f, 1f, 0f, 0f, 64, 3L), l.length);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 300; i++) {
            seen.add(s.sample(l, l.length));
        }
        assertEquals(Set.of(0, 1), seen);
    }

    @Test
    void repeatPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] l = {2f, 1.5f, -1f};
        Sampler s = new Sampler(SamplerConfig.greedy().withRepeatPenalty(2f), l.length);
        s.accept(0); // token 0: 2 / 2 = 1 < 1.5
        assertEquals(1, s.sample(l, l.length));
        s.accept(1); // token 1: 1.5 / 2 = 0.75 < 1
        assertEquals(0, s.sample(l, l.length));
    }

    @Test
    void frequencyAndPresencePenaltiesSubtract() {
        float[] l = {2f, 1.5f};
        Sampler s = new Sampler(SamplerConfig.greedy().withPenalties(1f, 0.2f, 0.2f, 64), l.length);
        s.accept(0);
        s.accept(0); // 2 - 2 * 0.2 - 0.2 = 1.4 < 1.5
        assertEquals(1, s.sample(l, l.length));
    }

    @Test
    void penaltiesOnlyRememberTheLastNTokens() {
        float[] l = {2f, 1.5f, 0f};
        Sampler s = new Sampler(SamplerConfig.greedy().withPenalties(2f, 0f, 0f, 2), l.length);
        s.accept(0);
        assertEquals(1, s.sample(l, l.length));
        s.accept(2);
        s.accept(2); // token 0 has left the window
        assertEquals(0, s.sample(l, l.length));
    }

    /**
     * Against the definition: each distinct token of the last N accepted ones penalised once, by its count in that
     * window. Small vocabularies, so tokens repeat, leave the window and come back; the sampler is asked several times
     * between accepts, so its bookkeeping must come back unchanged from each sample.
     */
    @Test
    void penaltiesFollowTheirDefinitionOverASlidingWindow() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            int nv = 2 + rnd.nextInt(6);
            int lastN = 1 + rnd.nextInt(5);
            float repeat = 1f + rnd.nextInt(3) * 0.5f;
            float freq = rnd.nextInt(3) * 0.25f;
            float presence = rnd.nextInt(3) * 0.25f;
            SamplerConfig c = SamplerConfig.greedy().withPenalties(repeat, freq, presence, lastN);
            Sampler s = new Sampler(c, nv);
            int[] accepted = new int[30];
            for (int step = 0; step < accepted.length; step++) {
                float[] l = new float[nv];
                for (int i = 0; i < nv; i++) {
                    l[i] = (float) (rnd.nextDouble() * 4 - 2);
                }
                int expected = penalisedArgmax(l, accepted, step, lastN, repeat, freq, presence);
                assertEquals(expected, s.sample(l, nv), "trial " + trial + " step " + step);
                assertEquals(expected, s.sample(l, nv), "a second sample sees the same penalties");
                accepted[step] = rnd.nextInt(nv);
                s.accept(accepted[step]);
            }
        }
    }

    private static int penalisedArgmax(float[] logits, int[] accepted, int n, int lastN, float repeat, float freq,
                                       float presence) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = Math.max(0, n - lastN); i < n; i++) {
            counts.merge(accepted[i], 1, Integer::sum);
        }
        float[] l = logits.clone();
        counts.forEach((t, count) -> {
            l[t] = l[t] <= 0 ? l[t] * repeat : l[t] / repeat;
            l[t] -= count * freq + presence;
        });
        return Sampler.argmax(l, l.length);
    }

    @Test
    void sameSeedSameSequenceDifferentSeedDifferentSequence() {
        float[] l = new float[100];
        SamplerConfig c = new SamplerConfig(1f, 0, 1f, 0f, 1f, 0f, 0f, 0, 42L);
        int[] a = run(new Sampler(c, 100), l, 64);
        int[] b = run(new Sampler(c, 100), l, 64);
        int[] d = run(new Sampler(c.withSeed(43L), 100), l, 64);
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(d));
    }

    @Test
    void distributionAtTemperatureOneFollowsSoftmax() {
        float[] l = {0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)}; // p = 0.1, 0.2, 0.3, 0.4
        Sampler s = new Sampler(new SamplerConfig(1f, 0, 1f, 0f, 1f, 0f, 0f, 0, 99L), l.length);
        int n = 20000;
        int[] counts = new int[4];
        for (int i = 0; i < n; i++) {
            counts[s.sample(l, l.length)]++;
        }
        for (int i = 0; i < 4; i++) {
            double expected = 0.1 * (i + 1);
            double sd = Math.sqrt(expected * (1 - expected) / n);
            assertTrue(Math.abs(counts[i] / (double) n - expected) < 5 * sd, "token " + i + ": " + counts[i]);
        }
    }

    @Test
    void topKOffStillFindsTheTopPSetInALargeVocabulary() {
        float[] l = new float[150_000];
        java.util.Arrays.fill(l, -5f);
        l[123_456] = 20f;
        Sampler s = new Sampler(new SamplerConfig(1f, 0, 0.9f, 0f, 1f, 0f, 0f, 0, 5L), l.length);
        assertEquals(123_456, s.sample(l, l.length));
    }

    @Test
    void nanAndNegativeInfinityLogitsAreNeverPicked() {
        float[] l = {Float.NaN, Float.NEGATIVE_INFINITY, 1f, Float.NaN};
        assertEquals(2, once(SamplerConfig.greedy(), l));
        assertEquals(2, once(SamplerConfig.defaults().withSeed(1L), l));
    }

    @Test
    void invalidParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> SamplerConfig.defaults().withMinP(2f));
        assertThrows(IllegalArgumentException.class, () -> SamplerConfig.defaults().withRepeatPenalty(0f));
    }

    private static int[] run(Sampler s, float[] l, int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = s.sample(l, l.length);
        }
        return r;
    }
}
