package dev.flint.cli.replay;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One keystroke's FIM request as the client saw it: when it was sent, when the first token arrived, when it
 * finished, and what the server said about the prompt (tokens reused from its cache vs computed). Transports fill it
 * from their reader threads; the driver reads it after {@link #await}.
 */
public final class Attempt {
    public enum Status { PENDING, COMPLETED, CANCELLED, FAILED }

    final int key;
    final String typed;
    final long startNanos = System.nanoTime();
    private final CountDownLatch settled = new CountDownLatch(1);
    private long firstNanos = -1;
    private long endNanos = -1;
    private Status status = Status.PENDING;
    private boolean cancelRequested;
    private String error;
    private String finishReason;
    private int promptTokens = -1;
    private int reused = -1;
    private int computed = -1;
    private int generated = -1;
    private String text = "";
    private Runnable canceller = () -> {};

    Attempt(int key, String typed) {
        this.key = key;
        this.typed = typed;
    }

    synchronized void onCancel(Runnable canceller) {
        this.canceller = canceller;
    }

    /** A token (or any generated text) arrived. */
    synchronized void firstToken() {
        if (firstNanos < 0 && status == Status.PENDING) {
            firstNanos = System.nanoTime();
        }
    }

    /**
     * The server's final answer; {@code promptTokens} is the whole prompt, {@code reused} the part taken from the
     * server's cache (-1 when unknown). A request the client had already given up on stays CANCELLED.
     */
    synchronized void finish(String finishReason, String text, int promptTokens, int reused, int generated) {
        if (status != Status.PENDING && status != Status.CANCELLED) {
            return;
        }
        long now = System.nanoTime();
        if (firstNanos < 0 && status == Status.PENDING) {
            firstNanos = now; // nothing was generated (an immediate end): the answer itself is the first sign
        }
        this.finishReason = finishReason;
        this.text = text;
        this.promptTokens = promptTokens;
        this.reused = reused;
        this.computed = promptTokens >= 0 && reused >= 0 ? promptTokens - reused : -1;
        this.generated = generated;
        if (status == Status.PENDING) {
            endNanos = now;
            status = Status.COMPLETED;
        }
        settled.countDown();
    }

    synchronized void fail(String message) {
        if (status == Status.PENDING) {
            status = Status.FAILED;
            error = message;
            endNanos = System.nanoTime();
        }
        settled.countDown();
    }

    /** The reader saw the request end without a final answer (the connection closed after a cancel). */
    synchronized void closed() {
        settled.countDown();
    }

    /** The editor's move when the next key comes while this request runs: abandon it and tell the server. */
    void cancel() {
        Runnable c;
        synchronized (this) {
            if (status != Status.PENDING) {
                return;
            }
            status = Status.CANCELLED;
            cancelRequested = true;
            endNanos = System.nanoTime();
            c = canceller;
        }
        c.run();
    }

    /** Gives up on a request that did not answer in time: it counts as failed, and the connection is dropped. */
    void abandon(String message) {
        Runnable c;
        synchronized (this) {
            if (status != Status.PENDING) {
                return;
            }
            status = Status.FAILED;
            error = message;
            endNanos = System.nanoTime();
            c = canceller;
        }
        c.run();
        settled.countDown();
    }

    synchronized boolean pending() {
        return status == Status.PENDING;
    }

    /** Waits until the transport has nothing more to report; false on timeout. */
    boolean await(long timeoutMs) throws InterruptedException {
        return settled.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    public synchronized Status status() {
        return status;
    }

    synchronized boolean cancelRequested() {
        return cancelRequested;
    }

    public synchronized double ttftMs() {
        return firstNanos < 0 ? Double.NaN : (firstNanos - startNanos) / 1e6;
    }

    public synchronized double totalMs() {
        return status == Status.COMPLETED ? (endNanos - startNanos) / 1e6 : Double.NaN;
    }

    public synchronized String error() {
        return error;
    }

    public synchronized String finishReason() {
        return finishReason;
    }

    public synchronized int promptTokens() {
        return promptTokens;
    }

    public synchronized int reused() {
        return reused;
    }

    public synchronized int computed() {
        return computed;
    }

    public synchronized int generated() {
        return generated;
    }

    public synchronized String text() {
        return text;
    }
}
