package dev.flint.engine.tensor;

/**
 * Quantization of activation rows to ggml's 8-bit formats, with the same rounding as ggml's reference
 * quantize_row_q8_0 / q8_1 / q8_K so that integer dot products see the values llama.cpp sees.
 */
final class Quantize {
    private Quantize() {}

    /**
     * Q8_0 (and Q8_1 when {@code sums != null}): for each block of 32, d = amax / 127 rounded through fp16,
     * q = round(x / d).
     */
    static void q8_0(float[] x, int xOff, int n, byte[] q, int qOff, float[] d, int dOff, float[] sums) {
        throw new UnsupportedOperationException("Q8_0 activation quantization: not written yet");
    }

    /** Q8_K: for each block of 256, d = max-magnitude value / -127 (f32), q = round(x / d), sums of groups of 16. */
    static void q8_K(float[] x, int xOff, int n, byte[] q, int qOff, float[] d, int dOff, float[] sums, int sOff) {
        throw new UnsupportedOperationException("Q8_K activation quantization: not written yet");
    }
}
