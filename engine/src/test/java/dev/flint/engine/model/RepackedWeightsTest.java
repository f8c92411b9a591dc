package dev.flint.engine.model;

import dev.flint.engine.Fixtures;
import dev.flint.engine.tensor.GgmlType;
import dev.flint.engine.tensor.WeightMatrix;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which matrices get a repacked copy at load: the ones products are taken with, on machines with 16-lane vectors
 * (Q8_0, Q4_0 and the K-quants here); token embeddings that a model only looks up (it has its own output matrix) keep just their
 * mapped bytes. That the repacked models still give llama.cpp's logits is {@link ReferenceLogitsTest}'s part.
 */
class RepackedWeightsTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-spm-Q8_0.gguf", "tiny-llama-spm-Q4_0.gguf"})
    void productMatricesAreRepackedAndLookedUpEmbeddingsAreNot(String name) throws Exception {
        boolean sixteenLanes = FloatVector.SPECIES_PREFERRED.length() == 16;
        try (Model m = Model.load(Fixtures.model(name))) {
            ModelWeights w = m.weights();
            assertFalse(w.tokenEmbedding() == w.output(), "the fixture has an output matrix of its own");
            assertFalse(w.tokenEmbedding().repacked(), "embeddings only looked up");
            assertEquals(w.tokenEmbedding().type(), w.layers()[0].ffnUp().type());
            assertEquals(sixteenLanes, w.layers()[0].ffnUp().repacked(), "ffn_up");
            assertEquals(sixteenLanes, w.layers()[0].wq().repacked(), "attn_q");
            // the output matrix: Q8_0 in the Q8_0 file, Q6_K in the Q4_0 one; both types repack
            assertEquals(sixteenLanes, w.output().repacked(), "output, " + w.output().type());
        }
    }

    /** The K-quant matrices (Q4_K, Q5_K, Q6_K) of K-quant files are repacked too (rows in whole groups of 16). */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2-Q4_K_M.gguf", "tiny-qwen2-Q5_K_M.gguf"})
    void kQuantMatricesAreRepacked(String name) throws Exception {
        boolean sixteenLanes = FloatVector.SPECIES_PREFERRED.length() == 16;
        GgmlType main = name.contains("Q4_K") ? GgmlType.Q4_K : GgmlType.Q5_K;
        try (Model m = Model.load(Fixtures.model(name))) {
            int mains = 0;
            int q6k = 0;
            for (LayerWeights l : m.weights().layers()) {
                for (WeightMatrix w : new WeightMatrix[] {l.wq(), l.wk(), l.wv(), l.wo(), l.ffnGate(), l.ffnUp(),
                        l.ffnDown()}) {
                    if (w.type() == main) {
                        mains++;
                    } else if (w.type() == GgmlType.Q6_K) {
                        q6k++;
                    } else {
                        continue;
                    }
                    assertEquals(sixteenLanes && w.rows() >= 16, w.repacked(), w.type() + " " + w.rows() + " x " + w.cols());
                }
            }
            assertTrue(mains > 0 && q6k > 0, "the fixture has " + main + " and Q6_K matrices");
        }
    }
}
