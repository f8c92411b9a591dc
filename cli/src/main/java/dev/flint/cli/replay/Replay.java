package dev.flint.cli.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Types a trace against a transport. {@code intervalMs} 0: each key waits for the previous completion (latency
 * without contention). {@code intervalMs} > 0: a key every {@code intervalMs} on a fixed schedule, and a request
 * still running when the next key comes is cancelled, as editors do; the last key's request runs to the end.
 * The first {@code warmup} keys always wait for their completion, so the timed keys start from a warm cache (an
 * editor warms it when the file is opened, as llama.vim does with its {@code n_predict: 0} requests); the
 * schedule starts after them.
 */
public final class Replay {
    private Replay() {}

    public static List<Attempt> run(Transport transport, Trace trace, int intervalMs, int timeoutMs)
            throws Exception {
        return run(transport, trace, intervalMs, timeoutMs, 0);
    }

    public static List<Attempt> run(Transport transport, Trace trace, int intervalMs, int timeoutMs, int warmup)
            throws Exception {
        StringBuilder doc = new StringBuilder(trace.initialDoc());
        int cursor = trace.start();
        transport.open(doc.toString());
        List<Attempt> attempts = new ArrayList<>();
        Attempt inflight = null;
        long t0 = System.nanoTime();
        for (int i = 0; i < trace.keys().size(); i++) {
            boolean paced = intervalMs > 0 && i >= warmup;
            if (i == warmup) {
                t0 = System.nanoTime();
            }
            if (paced) {
                long due = t0 + (i - warmup) * intervalMs * 1_000_000L;
                for (long now; (now = System.nanoTime()) < due; ) {
                    LockSupport.parkNanos(due - now);
                }
                if (inflight != null) {
                    inflight.cancel(); // no-op when it already finished
                }
            }
            String key = trace.keys().get(i);
            doc.insert(cursor, key);
            Attempt a = transport.send(i, key, cursor, doc.toString(), cursor + key.length());
            cursor += key.length();
            attempts.add(a);
            if (!paced) {
                settle(a, timeoutMs);
            }
            inflight = a;
        }
        // Everything must have answered (cancelled ones too) before the numbers are read.
        for (Attempt a : attempts) {
            settle(a, timeoutMs);
        }
        return attempts;
    }

    private static void settle(Attempt a, int timeoutMs) throws InterruptedException {
        if (!a.await(timeoutMs)) {
            a.abandon("no answer within " + timeoutMs + " ms");
        }
    }
}
