package dev.flint.engine.tensor;

/**
 * How the input vector of a matrix product is encoded before the dot products: ggml's {@code vec_dot_type}.
 * llama.cpp rounds activations to F16/BF16 or quantizes them to 8 bits for the quantized types; Flint does the same
 * so that its logits match llama.cpp's and so that the quantized kernels can use integer arithmetic.
 */
public enum ActivationFormat {
    /** Plain floats. */
    F32,
    /** Floats rounded to IEEE half precision. */
    F16,
    /** Floats rounded to bfloat16 (round to nearest even). */
    BF16,
    /** Blocks of 32: one scale d and 32 int8 (used with Q4_0, Q5_0, Q8_0). */
    Q8_0,
    /** Blocks of 32: scale d, s = d * sum(q), 32 int8 (used with Q4_1, Q5_1). */
    Q8_1,
    /** Blocks of 256: f32 scale, 256 int8 and 16 sums of 16 (used with the K-quants). */
    Q8_K
}
