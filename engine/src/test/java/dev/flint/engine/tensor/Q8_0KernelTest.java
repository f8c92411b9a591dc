package dev.flint.engine.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Q8_0 products against llama.cpp's arithmetic written out in scalar code (ggml_vec_dot_q8_0_q8_0's AVX2 path and
 * tinyBLAS_Q0_AVX, which agree): per block, eight integer sums of four neighbouring products, each added into its
 * float lane with fma(d_w * d_x, isum, acc), then hsum_float_8. Every path (one token, small batches, plane tiles
 * with odd token counts and left-over rows, batches split into chunks of token pairs for long rows) must give these
 * floats bit for bit.
 */
class Q8_0KernelTest {
    static float reference(byte[] w, int row, int cols, Activations x, int t) {
        int blocks = cols / 32;
        float[] acc = new float[8];
        for (int b = 0; b < blocks; b++) {
            int p = (row * blocks + b) * 34;
            float dw = Float.float16ToFloat((short) ((w[p] & 0xFF) | (w[p + 1] << 8)));
            float d = dw * x.d[t * blocks + b];
            for (int i = 0; i < 8; i++) {
                int isum = 0;
                for (int e = 0; e < 4; e++) {
                    isum += w[p + 2 + 4 * i + e] * (int) x.f[t * cols + 32 * b + 4 * i + e];
                }
                acc[i] = Math.fma(d, (float) isum, acc[i]);
            }
        }
        return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    }

    @ParameterizedTest
    @CsvSource({"1, 160", "2, 160", "3, 160", "4, 160", "9, 160", "10, 160", "11, 160", "15, 160", "16, 160",
            "17, 160", "19, 160", "31, 160", "47, 160", "17, 32768", "21, 32768"}) // rows of 32768: chunks of two pairs
    void everyPathComputesLlamaCppsFloats(int n, int cols) {
        int rows = 37;
        byte[] w = RandomWeights.bytes(GgmlType.Q8_0, (long) rows * cols, 5);
        // scales of every kind: negative, subnormal, zero, the largest finite values
        short[] special = {(short) 0xBC00, 0x0001, (short) 0x83FF, 0x0000, 0x7BFF, (short) 0xFBFF};
        for (int i = 0; i < special.length; i++) {
            int p = ((7 * i + 3) % (rows * cols / 32)) * 34;
            w[p] = (byte) special[i];
            w[p + 1] = (byte) (special[i] >> 8);
        }
        SplittableRandom r = new SplittableRandom(n);
        for (int k = 0; k < 40; k++) { // -128 is a valid weight byte (the activations never hold it)
            int p = r.nextInt(rows * cols / 32) * 34 + 2 + r.nextInt(32);
            w[p] = -128;
        }
        WeightMatrix m = WeightMatrix.of(GgmlType.Q8_0, MemorySegment.ofArray(w), rows, cols);
        // the kernels of machines without AVX-512, run here at this machine's vector size
        WeightMatrix narrow = new LegacyQuants.Q8_0(MemorySegment.ofArray(w), rows, cols, false, false);
        float[] in = new float[n * cols];
        for (int i = 0; i < in.length; i++) {
            in[i] = (float) (r.nextGaussian() * Math.exp(2 * r.nextGaussian()));
        }
        Activations x = new Activations(ActivationFormat.Q8_0, n, cols);
        x.set(in, cols, n);
        float[] out = new float[n * rows];
        m.matmul(x, out, rows, 0, rows);
        float[] narrowOut = new float[n * rows];
        narrow.matmul(x, narrowOut, rows, 0, rows);
        float[] part = new float[n * rows];
        m.matmul(x, part, rows, 0, 5); // ranges that leave rows over after one tile
        m.matmul(x, part, rows, 5, 21);
        m.matmul(x, part, rows, 21, rows);
        for (int t = 0; t < n; t++) {
            for (int row = 0; row < rows; row++) {
                float expected = reference(w, row, cols, x, t);
                String at = "row " + row + " token " + t + " of " + n;
                assertEquals(expected, out[t * rows + row], 0f, at);
                assertEquals(expected, part[t * rows + row], 0f, "split rows, " + at);
                assertEquals(expected, m.dot(row, x, t), 0f, "dot, " + at);
                assertEquals(expected, narrowOut[t * rows + row], 0f, "without AVX-512, " + at);
                assertEquals(expected, narrow.dot(row, x, t), 0f, "dot without AVX-512, " + at);
            }
        }
    }
}
