package dev.flint.engine.generate;

import java.util.function.BooleanSupplier;

/** A flag the requester sets to stop a generation; the engine checks it between decode steps and prompt batches. */
public final class Cancellation implements BooleanSupplier {
    private volatile boolean cancelled;

    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public boolean getAsBoolean() {
        return cancelled;
    }
}
