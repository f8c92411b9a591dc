package dev.flint.server.http;

import dev.flint.engine.sched.Completion;
import dev.flint.engine.sched.Job;
import dev.flint.engine.sched.JobListener;
import dev.flint.engine.sched.Scheduler;
import dev.flint.server.ModelService;
import io.javalin.http.Context;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs one or more jobs for an HTTP request ({@code n} choices) and hands their output from the scheduler's loop
 * thread to the (virtual) thread serving the request: the loop only enqueues, the request thread takes and writes.
 */
public final class StreamingListener implements AutoCloseable {
    /** A piece of text for choice {@code index}. */
    public record Delta(int index, String text) {
    }

    /** Choice {@code index} ended. */
    public record Done(int index, Completion completion) {
    }

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final List<Scheduler.Ticket> tickets = new ArrayList<>();
    private int open;
    private ClientDisconnects.Watch watch;

    /** Submits the jobs (all or none: a refusal cancels those already queued). */
    public StreamingListener(ModelService service, List<Job> jobs) {
        try {
            for (int i = 0; i < jobs.size(); i++) {
                int index = i;
                tickets.add(service.submit(jobs.get(i), new JobListener() {
                    @Override
                    public void onDelta(int token, String text) {
                        if (!text.isEmpty()) {
                            events.add(new Delta(index, text));
                        }
                    }

                    @Override
                    public void onDone(Completion completion) {
                        events.add(new Done(index, completion));
                    }
                }));
                open++;
            }
        } catch (RuntimeException e) {
            cancel();
            throw e;
        }
    }

    /** The next {@link Delta} or {@link Done}; null once every job is done. */
    public Object next() throws InterruptedException {
        while (open > 0) {
            Object e = events.poll(60, TimeUnit.SECONDS);
            if (e instanceof Done) {
                open--;
            }
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    /** Waits for every job; returns the completions by index. */
    public Completion[] awaitAll() throws InterruptedException {
        Completion[] out = new Completion[tickets.size()];
        Object e;
        while ((e = next()) != null) {
            if (e instanceof Done d) {
                out[d.index()] = d.completion();
            }
        }
        return out;
    }

    /**
     * Cancels the jobs if the client hangs up before they end (see {@link ClientDisconnects}): a non-streamed
     * response writes nothing until the end, and a streamed one nothing before its first token, so without the watch a
     * vanished client would hold its slots that long. The watch ends with {@link #close()}.
     */
    public StreamingListener watchClient(Context ctx) {
        watch = ClientDisconnects.watch(ctx, this::cancel);
        return this;
    }

    public void cancel() {
        tickets.forEach(Scheduler.Ticket::cancel);
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
        if (open > 0) {
            cancel();
        }
    }
}
