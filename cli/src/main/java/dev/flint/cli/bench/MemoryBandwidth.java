package dev.flint.cli.bench;

import dev.flint.engine.parallel.WorkerPool;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Measures the machine's read bandwidth the way token generation uses memory: every thread of the pool streams its
 * share of a buffer much larger than the caches. The best of several passes is reported.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;

    private MemoryBandwidth() {}

    /** Bytes per second read, using a buffer of {@code bytes} bytes. */
    public static double measure(WorkerPool pool, long bytes, int passes) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(bytes, 64);
            seg.fill((byte) 1);
            int chunks = pool.threads() * 8;
            long per = (bytes / chunks) & ~255L;
            long[] sink = new long[chunks];
            double best = 0;
            for (int p = 0; p < passes; p++) {
                long t0 = System.nanoTime();
                pool.parallelFor(chunks, c -> sink[c] += sum(seg, c * per, per));
                double s = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, per * chunks / s);
            }
            if (Arrays.stream(sink).sum() == 42) {
                System.out.print(""); // keep the reads alive
            }
            return best;
        }
    }

    private static long sum(MemorySegment seg, long off, long len) {
        LongVector a = LongVector.zero(S);
        LongVector b = LongVector.zero(S);
        int step = S.vectorByteSize();
        long end = off + len - 2L * step;
        long i = off;
        for (; i <= end; i += 2L * step) {
            a = a.add(LongVector.fromMemorySegment(S, seg, i, ByteOrder.LITTLE_ENDIAN));
            b = b.add(LongVector.fromMemorySegment(S, seg, i + step, ByteOrder.LITTLE_ENDIAN));
        }
        return a.add(b).reduceLanes(VectorOperators.ADD);
    }
}
