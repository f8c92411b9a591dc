package dev.flint.engine.parallel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed set of platform threads for the engine's data-parallel loops. A decode step runs a few hundred short loops
 * (one per matrix product), so hand-off latency matters more than anything else here: workers spin briefly on a
 * volatile epoch before parking, and the calling thread takes part in every loop, so a pool of {@code n} threads keeps
 * {@code n} cores busy with {@code n - 1} workers. Work is handed out through an atomic counter, so a core that
 * finishes early takes more. Loops from different callers are serialised; a loop body must not start another loop.
 */
public final class WorkerPool implements AutoCloseable {
    /** How long an idle worker spins before parking: longer than the gaps inside a forward pass. */
    private static final long SPIN_NANOS = 200_000;
    /** Park bounds of an idle worker: from 10 ms, doubling up to 100 ms while no work comes. */
    private static final long MIN_PARK_NANOS = 10_000_000L;
    private static final long MAX_PARK_NANOS = 100_000_000L;

    private final int threads;
    private final Thread[] workers;
    private final AtomicIntegerArray sleeping; // 1 while a worker is (about to be) parked
    private final ReentrantLock callerLock = new ReentrantLock();
    private final Job job = new Job();
    private volatile long epoch;
    private volatile boolean closed;

    /**
     * The loop being run. One per pool, reused: loops are serialised, and every worker is done with one (it has
     * counted itself out) before the next is published, so a decode step's few hundred loops allocate nothing here.
     */
    private static final class Job {
        int n;
        IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger workersLeft = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        /** Sets up the next loop; published to the workers by the epoch's volatile write that follows. */
        void reset(int n, IntConsumer body, int workers) {
            this.n = n;
            this.body = body;
            next.set(0);
            workersLeft.set(workers);
            failure.set(null);
        }

        void drain() {
            try {
                for (int i; (i = next.getAndIncrement()) < n; ) {
                    body.accept(i);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                next.set(n);
            }
        }
    }

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.sleeping = new AtomicIntegerArray(threads - 1);
        for (int i = 0; i < workers.length; i++) {
            int id = i;
            workers[i] = Thread.ofPlatform().daemon().name("flint-worker-" + i).start(() -> runWorker(id));
        }
    }

    /** Threads the engine should use by default: the CPUs this process may run on (container limits included). */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    private void runWorker(int id) {
        long seen = 0;
        while (true) {
            long start = System.nanoTime();
            int spins = 0;
            long park = 0;
            while (epoch == seen && !closed) {
                // spin only before the first park of a wait, and park longer while idle: an idle server's workers
                // then wake ten times a second (re-spinning 200 us after every 10 ms park kept them about 2 % busy)
                if (park == 0 && ((++spins & 63) != 0 || System.nanoTime() - start < SPIN_NANOS)) {
                    Thread.onSpinWait();
                } else {
                    park = Math.min(park == 0 ? MIN_PARK_NANOS : 2 * park, MAX_PARK_NANOS);
                    sleeping.set(id, 1);
                    if (epoch == seen && !closed) {
                        // bounded although the flag handshake with parallelFor leaves no unpark to miss
                        LockSupport.parkNanos(this, park);
                    }
                    sleeping.set(id, 0);
                }
            }
            if (closed) {
                return;
            }
            seen = epoch;
            Job j = job;
            j.drain();
            j.workersLeft.decrementAndGet();
        }
    }

    /** Runs {@code body.accept(i)} for every i in [0, n), spread over the pool; returns when all are done. */
    public void parallelFor(int n, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        if (threads == 1 || n == 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        callerLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("worker pool is closed");
            }
            Job j = job;
            j.reset(n, body, workers.length);
            epoch = epoch + 1; // publishes the job
            for (int i = 0; i < workers.length; i++) {
                if (sleeping.get(i) == 1) {
                    LockSupport.unpark(workers[i]);
                }
            }
            j.drain();
            // the last chunks are short: spin briefly, then yield so a descheduled worker gets the core back
            for (int spins = 0; j.workersLeft.get() > 0; spins++) {
                if (spins < 4096) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            Throwable t = j.failure.get();
            j.body = null; // the loop's captures are not kept alive until the next loop
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error err) {
                throw err;
            }
        } finally {
            callerLock.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
