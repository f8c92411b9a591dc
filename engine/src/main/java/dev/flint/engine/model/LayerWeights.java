package dev.flint.engine.model;

import dev.flint.engine.tensor.WeightMatrix;

/**
 * The weights of one transformer block. Optional parts (biases, the LayerNorm bias, the SwiGLU gate) are null when
 * a family does not have them; the block computes with whatever is present.
 */
public record LayerWeights(
        float[] attnNorm, float[] attnNormBias,
        WeightMatrix wq, float[] bq,
        WeightMatrix wk, float[] bk,
        WeightMatrix wv, float[] bv,
        WeightMatrix wo, float[] bo,
        float[] ffnNorm, float[] ffnNormBias,
        WeightMatrix ffnGate,
        WeightMatrix ffnUp, float[] ffnUpBias,
        WeightMatrix ffnDown, float[] ffnDownBias) {
}
