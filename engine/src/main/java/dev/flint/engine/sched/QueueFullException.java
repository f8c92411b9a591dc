package dev.flint.engine.sched;

/** The scheduler's waiting queue is full; the caller should retry later (HTTP 503). */
public final class QueueFullException extends RuntimeException {
    public QueueFullException(int capacity) {
        super("the server is busy: " + capacity + " requests are already waiting; retry later");
    }
}
