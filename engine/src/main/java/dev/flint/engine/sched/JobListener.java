package dev.flint.engine.sched;

/**
 * Receives a job's output. Called on the scheduler's loop thread: implementations hand the data to their transport
 * (a queue, an asynchronous socket send) and return at once; a slow listener slows every slot.
 */
public interface JobListener {
    /** Text that became final (never part of a stop string, never a split character); may be empty. */
    void onDelta(int token, String text);

    /** The job ended (finished, stopped, cancelled or failed); called exactly once, last. */
    void onDone(Completion completion);
}
