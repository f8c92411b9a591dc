package dev.flint.engine.parallel;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * An idle server's workers sleep: a worker spins only before its first park of a wait, not again after every
     * timed-out park, and parks longer while no work comes (re-spinning cost 200 us of CPU in every 10 ms per
     * worker: a server with eight threads used 15 % of a core doing nothing).
     */
    @Test
    void idleWorkersUseAlmostNoCpu() throws InterruptedException {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadCpuTimeSupported() && mx.isThreadCpuTimeEnabled());
        Set<Thread> others = workerThreads(); // pools of other tests in this JVM
        try (WorkerPool pool = new WorkerPool(3)) {
            pool.parallelFor(100, i -> { });
            Thread.sleep(100); // past the spin: the workers park
            Set<Thread> mine = workerThreads();
            mine.removeAll(others);
            long[] ids = mine.stream().mapToLong(Thread::threadId).toArray();
            assertEquals(2, ids.length);
            long[] before = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                before[i] = mx.getThreadCpuTime(ids[i]);
            }
            Thread.sleep(1000);
            for (int i = 0; i < ids.length; i++) {
                long usedMs = (mx.getThreadCpuTime(ids[i]) - before[i]) / 1_000_000;
                // re-spinning after each 10 ms park used about 24 ms per second here, parking every 10 ms without
                // the spin 6-9 ms, and parking up to 100 ms 0-1 ms
                assertTrue(usedMs < 5, "an idle worker used " + usedMs + " ms of CPU in one second");
            }
            AtomicLong sum = new AtomicLong();
            pool.parallelFor(100, sum::addAndGet);
            assertEquals(4950, sum.get());
        }
    }

    private static Set<Thread> workerThreads() {
        Set<Thread> out = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("flint-worker-")) {
                out.add(t);
            }
        }
        return out;
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
