package dev.flint.engine.model;

import dev.flint.engine.Fixtures;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Which matrices get a repacked copy at load: the ones products are taken with, on machines with 16-lane vectors
 * (Q8_0 and Q4_0 here); token embeddings that a model only looks up (it has its own output matrix) keep just their
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
            // the output matrix: repacked when it is of the embeddings' (repacking) type, as in the Q8_0 file
            assertEquals(sixteenLanes && w.output().type() == w.tokenEmbedding().type(), w.output().repacked(),
                    "output, " + w.output().type());
        }
    }
}
