package dev.flint.engine.model;

import dev.flint.engine.kv.KvCache;
import dev.flint.engine.parallel.WorkerPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flint's logits against llama.cpp's on every reference fixture, with the closeness rules of the fixture README:
 * cosine similarity of the last prompt position's full logits, and the same top-1 wherever llama.cpp's top-1 leads
 * its top-2 by more than 0.1, at every prompt position (one batched pass) and every teacher-forced greedy step.
 */
class ReferenceLogitsTest {
    private static WorkerPool pool;

    @BeforeAll
    static void startPool() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    static Stream<ReferenceCase> cases() throws IOException {
        return ReferenceCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesLlamaCppLogits(ReferenceCase ref) throws IOException {
        try (Model model = Model.load(ref.modelPath())) {
            Transformer tf = model.transformer();
            int nv = tf.vocabularySize();
            assertEquals(ref.nVocab(), nv, "vocabulary size");
            int[] prompt = ref.promptTokens();
            KvCache cache = tf.newCache(prompt.length + ref.greedy().length + 1);
            Batch batch = new Batch();
            for (int i = 0; i < prompt.length; i++) {
                batch.add(prompt[i], i, cache, true);
            }
            float[] logits = new float[prompt.length * nv];
            tf.forward(batch, logits, pool);

            List<String> mismatches = new ArrayList<>();
            for (int i = 0; i < prompt.length; i++) {
                checkTop1(ref.promptTop()[i], ref.promptTopLogits()[i], logits, i * nv, nv, "prompt position " + i,
                        mismatches);
            }
            float[] last = new float[nv];
            System.arraycopy(logits, (prompt.length - 1) * nv, last, 0, nv);
            double cos = cosine(last, ref.lastLogits());
            if (System.getenv("FLINT_DIAG") != null) {
                for (int i = 0; i < prompt.length; i++) {
                    double md = 0;
                    for (int r = 0; r < 10; r++) {
                        md = Math.max(md, Math.abs(logits[i * nv + ref.promptTop()[i][r][0]] - ref.promptTopLogits()[i][r]));
                    }
                    System.out.printf("%s pos %d maxdiff %.4f%n", ref, i, md);
                }
            }
            double cosBound = ref.cosineBound();
            assertTrue(cos >= cosBound, ref + ": cosine " + cos + " < " + cosBound);

            // teacher-forced greedy: feed llama.cpp's greedy tokens one by one
            float[] step = new float[nv];
            int pos = prompt.length;
            for (int s = 0; s < ref.greedy().length; s++) {
                if (s > 0) {
                    batch.clear().add(ref.greedy()[s - 1], pos++, cache, true);
                    tf.forward(batch, step, pool);
                } else {
                    step = last;
                }
                if (System.getenv("FLINT_DIAG") != null) {
                    double md = 0;
                    for (int r = 0; r < 10; r++) {
                        md = Math.max(md, Math.abs(step[ref.greedyTop()[s][r][0]] - ref.greedyTopLogits()[s][r]));
                    }
                    System.out.printf("%s greedy %d maxdiff %.4f%n", ref, s, md);
                }
                checkTop1(ref.greedyTop()[s], ref.greedyTopLogits()[s], step, 0, nv, "greedy step " + s, mismatches);
                if (s == 0) {
                    step = new float[nv];
                }
            }
            assertTrue(mismatches.isEmpty(), ref + ": top-1 differs at " + mismatches);
        }
    }

    private static void checkTop1(int[][] refTop, float[] refLogits, float[] logits, int off, int nv, String where,
                                  List<String> mismatches) {
        if (refLogits[0] - refLogits[1] <= 0.1f) {
            return; // a near-tie: either order is faithful
        }
        int best = 0;
        for (int i = 1; i < nv; i++) {
            if (logits[off + i] > logits[off + best]) {
                best = i;
            }
        }
        if (best != refTop[0][0]) {
            mismatches.add(where + ": flint " + best + " (" + logits[off + best] + ") vs llama.cpp " + refTop[0][0]
                    + " (" + refLogits[0] + ")");
        }
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
