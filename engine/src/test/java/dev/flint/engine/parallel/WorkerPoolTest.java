package dev.flint.engine.parallel;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WorkerPoolTest {
    @Test
    void everyIndexRunsExactlyOnceAcrossManyLoops() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int round = 0; round < 2000; round++) {
                int n = 1 + round % 97;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                pool.parallelFor(n, hits::incrementAndGet);
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "round " + round + " index " + i);
                }
            }
        }
    }

    @Test
    void loopsAfterAnIdlePauseStillComplete() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2)) {
            AtomicLong sum = new AtomicLong();
            pool.parallelFor(100, sum::addAndGet);
            Thread.sleep(50); // workers park
            pool.parallelFor(100, sum::addAndGet);
            assertEquals(2 * 4950, sum.get());
        }
    }

    @Test
    void aFailingBodyIsRethrownToTheCaller() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(50, i -> {
                if (i == 17) {
                    throw new IllegalStateException("boom");
                }
            }));
            assertEquals("boom", e.getMessage());
            AtomicLong sum = new AtomicLong();
            pool.parallelFor(10, sum::addAndGet);
            assertEquals(45, sum.get());
        }
    }

    @Test
    void concurrentCallersAreSerialisedCorrectly() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2)) {
            AtomicLong sum = new AtomicLong();
            Thread[] callers = new Thread[3];
            for (int c = 0; c < callers.length; c++) {
                callers[c] = Thread.ofPlatform().start(() -> {
                    for (int r = 0; r < 200; r++) {
                        pool.parallelFor(10, sum::addAndGet);
                    }
                });
            }
            for (Thread t : callers) {
                t.join();
            }
            assertEquals(3L * 200 * 45, sum.get());
        }
    }
}
