package dev.flint.engine.generate;

import dev.flint.engine.model.Transformer;
import dev.flint.engine.parallel.WorkerPool;

/** Makes sessions bound to one model and pool (Session's constructor stays package-private). */
public final class SessionFactory {
    private final Transformer transformer;
    private final WorkerPool pool;
    private final int batchSize;

    public SessionFactory(Transformer transformer, WorkerPool pool, int batchSize) {
        this.transformer = transformer;
        this.pool = pool;
        this.batchSize = batchSize;
    }

    public Session create(int contextLength) {
        return new Session(transformer, pool, contextLength, batchSize);
    }
}
