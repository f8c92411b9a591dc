package dev.flint.engine.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Q4_0, Q4_1, Q5_0 and Q5_1 products are bit-identical to the float operations of llama.cpp's repacked Q4_0 kernels
 * (gemv and gemm of ggml-cpu-aarch64.cpp on x86): per row and token, {@code acc = fma((float) isum_b, d_w,b * d_x,b,
 * acc)} over the blocks in order, isum_b the block's exact integer dot product; types with a minimum add a second
 * chain {@code macc = fma(m_w,b, s_x,b, macc)} at the end. Every batch size (row by row, tokens in lanes one or
 * three groups at a time, the tokens left over per token or as a partly filled group) and row range (rows left over
 * from groups of four) must give exactly that.
 */
class RowGroupMatrixTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void everyPathComputesTheBlockChainExactly(GgmlType type) {
        int rows = 56;
        int cols = 320;
        byte[] bytes = RandomWeights.bytes(type, (long) rows * cols, 5);
        // scales of every kind the packed kernels convert with integer operations: negative, subnormal, zero, the
        // largest finite value
        short[] special = {(short) 0xBC00, 0x0001, (short) 0x83FF, 0x0000, 0x7BFF, (short) 0xFBFF, 0x0400};
        for (int i = 0; i < special.length; i++) {
            setScale(type, bytes, 37 * i + 3, special[i]);
        }
        assertEveryPathExact(type, bytes, rows, cols);
    }

    /**
     * Wide rows and a long batch: the tokens run in several chunks of token groups (three groups each at 4096
     * columns), and in tiles of three, two and one group; the results are the same.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void longBatchesOfWideRowsRunInTokenChunksWithTheSameResults(GgmlType type) {
        int rows = 40;
        int cols = 4096;
        byte[] bytes = RandomWeights.bytes(type, (long) rows * cols, 8);
        SplittableRandom r = new SplittableRandom(10);
        assertEveryPathExact(type, bytes, rows, cols, (t, i) -> (float) r.nextGaussian(), new int[] {100, 110, 120});
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void infiniteScalesRunRowByRowWithTheSameResults(GgmlType type) {
        int rows = 40;
        int cols = 64;
        byte[] bytes = RandomWeights.bytes(type, (long) rows * cols, 6);
        setScale(type, bytes, 5, (short) 0x7C00);
        assertEveryPathExact(type, bytes, rows, cols);
    }

    /**
     * The single-token kernels and the batch tiles of whole groups add products of quants and activations in 16-bit
     * lanes: the largest magnitudes (every quant at its largest or smallest value against activations quantized to
     * +-127; Q5_0's -16 reaches 16 * 16 * 127 = 32512 in a tile's lane) must not wrap.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void extremeQuantsAndActivationsDoNotOverflowTheShortLanes(GgmlType type) {
        int rows = 32;
        int cols = 128;
        byte[] bytes = RandomWeights.bytes(type, (long) rows * cols, 7);
        int size = type.blockBytes;
        for (int row = 0; row < rows; row++) {
            for (int b = 0; b < cols / 32; b++) {
                int p = (row * cols / 32 + b) * size;
                // all quant bytes (Q5: the high bits too) all ones or all zeros
                int quants = type == GgmlType.Q4_1 || type == GgmlType.Q5_1 ? 4 : 2;
                java.util.Arrays.fill(bytes, p + quants, p + size, (byte) (row % 2 == 0 ? 0xFF : 0x00));
            }
        }
        assertEveryPathExact(type, bytes, rows, cols, (t, i) -> t % 2 == 0 ? 3f : -3f);
    }

    private static void setScale(GgmlType type, byte[] bytes, int block, short h) {
        bytes[block * type.blockBytes] = (byte) h;
        bytes[block * type.blockBytes + 1] = (byte) (h >> 8);
    }

    private static void assertEveryPathExact(GgmlType type, byte[] bytes, int rows, int cols) {
        SplittableRandom r = new SplittableRandom(9);
        assertEveryPathExact(type, bytes, rows, cols, (t, i) -> (float) (r.nextGaussian() * (1 + (i % 7))));
    }

    private static void assertEveryPathExact(GgmlType type, byte[] bytes, int rows, int cols, Input input) {
        assertEveryPathExact(type, bytes, rows, cols, input, new int[] {1, 2, 3, 4, 7, 8, 9, 13, 16, 17, 30, 40});
    }

    private static void assertEveryPathExact(GgmlType type, byte[] bytes, int rows, int cols, Input input, int[] batches) {
        MemorySegment data = MemorySegment.ofArray(bytes);
        WeightMatrix w = WeightMatrix.of(type, data, rows, cols);
        for (int n : batches) {
            float[] in = new float[n * cols];
            for (int i = 0; i < in.length; i++) {
                in[i] = input.value(i / cols, i);
            }
            Activations x = new Activations(w.activationFormat(), n, cols);
            x.set(in, cols, n);
            float[] out = new float[n * rows];
            w.matmul(x, out, rows, 0, 22); // ranges that leave rows outside whole groups of four
            w.matmul(x, out, rows, 22, rows);
            for (int t = 0; t < n; t++) {
                for (int row = 0; row < rows; row++) {
                    float want = reference(type, data, row, cols, x, t);
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

    /** llama.cpp's per-output float operations of the repacked Q4_0 kernels, in scalar code, plus the minimum chain. */
    private static float reference(GgmlType type, MemorySegment data, int row, int cols, Activations x, int t) {
        int nb = cols / 32;
        int size = type.blockBytes;
        boolean mins = type == GgmlType.Q4_1 || type == GgmlType.Q5_1;
        long base = (long) row * nb * size;
        float acc = 0f;
        float macc = 0f;
        for (int b = 0; b < nb; b++) {
            long p = base + (long) b * size;
            int isum = 0;
            for (int e = 0; e < 32; e++) {
                isum += value(type, data, p, e) * (int) x.f[t * cols + 32 * b + e];
            }
            float dw = Kernels.f16(data, p);
            float dx = x.d[t * nb + b];
            acc = Math.fma((float) isum, dw * dx, acc);
            if (mins) {
                macc = Math.fma(Kernels.f16(data, p + 2), x.xsum[t * nb + b], macc);
            }
        }
        return mins ? acc + macc : acc;
    }

    /** Element e of the block at p as an integer: signed for Q4_0/Q5_0, unsigned for the types with a minimum. */
    private static int value(GgmlType type, MemorySegment data, long p, int e) {
        return switch (type) {
            case Q4_0, Q4_1 -> {
                int v = Kernels.u8(data, p + (type == GgmlType.Q4_0 ? 2 : 4) + e % 16);
                yield (e < 16 ? v & 0xF : v >> 4) - (type == GgmlType.Q4_0 ? 8 : 0);
            }
            default -> {
                int h = type == GgmlType.Q5_0 ? 2 : 4;
                int qh = data.get(Kernels.INT, p + h);
                int v = Kernels.u8(data, p + h + 4 + e % 16);
                int nibble = e < 16 ? v & 0xF : v >> 4;
                yield (nibble | ((qh >>> e) & 1) << 4) - (type == GgmlType.Q5_0 ? 16 : 0);
            }
        };
    }
}
