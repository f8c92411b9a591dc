package dev.flint.engine.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Q4_0 products are bit-identical to the float operations of llama.cpp's repacked Q4_0 kernels (gemv and gemm of
 * ggml-cpu-aarch64.cpp on x86): per row and token, {@code acc = fma((float) isum_b, d_w,b * d_x,b, acc)} over the
 * blocks in order, isum_b the block's exact integer dot product. Every batch size (row by row, tokens in lanes one or
 * two groups at a time, a partly filled group) and row range (rows left over from groups of four) must give exactly
 * that.
 */
class Q4_0MatrixTest {
    @Test
    void everyPathComputesTheBlockChainExactly() {
        int rows = 56;
        int cols = 320;
        byte[] bytes = RandomWeights.bytes(GgmlType.Q4_0, (long) rows * cols, 5);
        // scales of every kind the packed kernels convert with integer operations: negative, subnormal, zero, the
        // largest finite value
        short[] special = {(short) 0xBC00, 0x0001, (short) 0x83FF, 0x0000, 0x7BFF, (short) 0xFBFF, 0x0400};
        for (int i = 0; i < special.length; i++) {
            setScale(bytes, 37 * i + 3, special[i]);
        }
        assertEveryPathExact(bytes, rows, cols);
    }

    @Test
    void infiniteScalesRunRowByRowWithTheSameResults() {
        int rows = 40;
        int cols = 64;
        byte[] bytes = RandomWeights.bytes(GgmlType.Q4_0, (long) rows * cols, 6);
        setScale(bytes, 5, (short) 0x7C00);
        assertEveryPathExact(bytes, rows, cols);
    }

    /**
     * The single-token kernel adds 16 nibble-times-activation products in 16-bit lanes: the largest magnitudes (every
     * nibble 15 or 0 against activations quantized to +-127) must not wrap.
     */
    @Test
    void extremeNibblesAndActivationsDoNotOverflowTheShortLanes() {
        int rows = 32;
        int cols = 128;
        byte[] bytes = RandomWeights.bytes(GgmlType.Q4_0, (long) rows * cols, 7);
        for (int row = 0; row < rows; row++) {
            for (int b = 0; b < cols / 32; b++) {
                int p = (row * cols / 32 + b) * 18;
                java.util.Arrays.fill(bytes, p + 2, p + 18, (byte) (row % 2 == 0 ? 0xFF : 0x00));
            }
        }
        assertEveryPathExact(bytes, rows, cols, (t, i) -> t % 2 == 0 ? 3f : -3f);
    }

    private static void setScale(byte[] bytes, int block, short h) {
        bytes[block * 18] = (byte) h;
        bytes[block * 18 + 1] = (byte) (h >> 8);
    }

    private static void assertEveryPathExact(byte[] bytes, int rows, int cols) {
        SplittableRandom r = new SplittableRandom(9);
        assertEveryPathExact(bytes, rows, cols, (t, i) -> (float) (r.nextGaussian() * (1 + (i % 7))));
    }

    private static void assertEveryPathExact(byte[] bytes, int rows, int cols, Input input) {
        MemorySegment data = MemorySegment.ofArray(bytes);
        WeightMatrix w = WeightMatrix.of(GgmlType.Q4_0, data, rows, cols);
        for (int n : new int[] {1, 2, 3, 4, 7, 8, 9, 16, 17, 40}) {
            float[] in = new float[n * cols];
            for (int i = 0; i < in.length; i++) {
                in[i] = input.value(i / cols, i);
            }
            Activations x = new Activations(ActivationFormat.Q8_0, n, cols);
            x.set(in, cols, n);
            float[] out = new float[n * rows];
            w.matmul(x, out, rows, 0, 22); // ranges that leave rows outside whole groups of four
            w.matmul(x, out, rows, 22, rows);
            for (int t = 0; t < n; t++) {
                for (int row = 0; row < rows; row++) {
                    float want = reference(data, row, cols, x, t);
                    if (Float.isNaN(want)) {
                        assertEquals(Float.NaN, out[t * rows + row], "batch " + n + " token " + t + " row " + row);
                        continue;
                    }
                    assertEquals(want, out[t * rows + row], 0f, "batch " + n + " token " + t + " row " + row);
                    assertEquals(want, w.dot(row, x, t), 0f, "dot, token " + t + " row " + row);
                }
            }
        }
    }

    /** Input value i (of token t). */
    private interface Input {
        float value(int t, int i);
    }

    /** llama.cpp's per-output float operations, in scalar code. */
    private static float reference(MemorySegment data, int row, int cols, Activations x, int t) {
        int nb = cols / 32;
        long base = (long) row * nb * 18;
        float acc = 0f;
        for (int b = 0; b < nb; b++) {
            long p = base + b * 18L;
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int v = Kernels.u8(data, p + 2 + j);
                isum += ((v & 0xF) - 8) * (int) x.f[t * cols + 32 * b + j];
                isum += ((v >> 4) - 8) * (int) x.f[t * cols + 32 * b + 16 + j];
            }
            float dw = Kernels.f16(data, p);
            float dx = x.d[t * nb + b];
            acc = Math.fma((float) isum, dw * dx, acc);
        }
        return acc;
    }
}
