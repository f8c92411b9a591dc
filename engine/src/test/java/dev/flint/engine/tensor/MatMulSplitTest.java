package dev.flint.engine.tensor;

import dev.flint.engine.parallel.WorkerPool;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link MatMul} splits the rows into long and short runs across the pool: every row is computed exactly once, with
 * the bits of one product over all rows, for row counts around the run sizes and for several pool sizes.
 */
class MatMulSplitTest {
    @ParameterizedTest
    @CsvSource({"Q8_0,1", "Q8_0,15", "Q8_0,16", "Q8_0,17", "Q8_0,128", "Q8_0,1000", "Q4_0,896", "Q4_0,4867",
        "F32,33", "Q6_K,200"})
    void everyRowIsComputedOnceWithTheSingleRangeBits(GgmlType type, int rows) {
        int cols = 256;
        WeightMatrix w = WeightMatrix.of(type, MemorySegment.ofArray(RandomWeights.bytes(type, (long) rows * cols, 3)),
                rows, cols);
        SplittableRandom r = new SplittableRandom(rows);
        float[] in = new float[2 * cols];
        for (int i = 0; i < in.length; i++) {
            in[i] = (float) r.nextGaussian();
        }
        for (int tokens = 1; tokens <= 2; tokens++) {
            Activations x = new Activations(w.activationFormat(), tokens, cols);
            x.set(in, cols, tokens);
            float[] expected = new float[tokens * rows];
            w.matmul(x, expected, rows, 0, rows);
            for (int threads = 1; threads <= 4; threads++) {
                try (WorkerPool pool = new WorkerPool(threads)) {
                    float[] got = new float[tokens * rows];
                    Arrays.fill(got, Float.NaN);
                    MatMul.apply(pool, w, x, got);
                    for (int i = 0; i < got.length; i++) {
                        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                                type + ", " + rows + " rows, " + threads + " threads, tokens " + tokens + ", at " + i);
                    }
                }
            }
        }
    }
}
