package dev.flint.server;

import dev.flint.engine.Engine;
import dev.flint.engine.generate.ContextOverflowException;
import dev.flint.engine.sched.Job;
import dev.flint.engine.sched.JobListener;
import dev.flint.engine.sched.QueueFullException;
import dev.flint.engine.sched.Scheduler;
import dev.flint.engine.sched.SchedulerOptions;
import dev.flint.engine.spec.DraftModel;
import dev.flint.engine.tokenizer.Tokenizer;
import dev.flint.server.chat.ChatTemplate;
import dev.flint.server.fim.FimPromptBuilder;
import dev.flint.server.fim.FimTokens;
import dev.flint.server.http.ApiException;
import dev.flint.server.metrics.ServerMetrics;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What every transport shares: the engine, its scheduler, the FIM prompt builder, the chat template and the metrics.
 * Maps engine refusals (queue full, prompt too long) to {@link ApiException}s once.
 */
public final class ModelService implements AutoCloseable {
    private final Engine engine;
    private final Scheduler scheduler;
    private final String modelId;
    private final Path modelPath;
    private final Optional<FimPromptBuilder> fim;
    private final ChatTemplate chat;
    private final ServerMetrics metrics;
    private final int batchSize;
    private final Optional<DraftModel> draft;
    private final long created = System.currentTimeMillis() / 1000;

    public ModelService(Engine engine, Path modelPath, SchedulerOptions options) {
        this(engine, modelPath, options, null);
    }

    /**
     * @param draft a draft model for speculative decoding (drafts when {@code options.draftMax() > 0}), or null for
     *              n-gram self-speculation; the caller closes it after this service
     */
    public ModelService(Engine engine, Path modelPath, SchedulerOptions options, DraftModel draft) {
        this.engine = engine;
        this.modelPath = modelPath;
        this.draft = Optional.ofNullable(draft);
        this.scheduler = new Scheduler(engine, options, draft);
        String name = modelPath.getFileName().toString();
        this.modelId = name.endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
        Tokenizer tk = engine.tokenizer();
        this.fim = FimTokens.discover(tk.vocabulary(), engine.model().gguf()).map(t -> new FimPromptBuilder(tk, t));
        var v = tk.vocabulary();
        this.chat = new ChatTemplate(engine.model().gguf().getString("tokenizer.chat_template", null),
                v.bos() >= 0 ? v.token(v.bos()) : "", v.eos() >= 0 ? v.token(v.eos()) : "");
        this.metrics = new ServerMetrics(scheduler);
        this.batchSize = options.stepTokens();
    }

    public Scheduler.Ticket submit(Job job, JobListener listener) {
        try {
            return scheduler.submit(job, metrics.observe(listener));
        } catch (QueueFullException e) {
            throw new ApiException(503, "server_busy", e.getMessage(), null);
        } catch (ContextOverflowException e) {
            throw new ApiException(400, "context_length_exceeded", "the prompt has " + (e.needed() - 1)
                    + " tokens but the context holds " + e.capacity() + " per slot; shorten the prompt", null);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    /** The FIM builder, or 501 when the model has no FIM tokens (as llama.cpp answers). */
    public FimPromptBuilder fimOrThrow() {
        return fim.orElseThrow(() -> new ApiException(501, "not_supported_error",
                "this model has no fill-in-the-middle tokens (prefix/suffix/middle), so infill is not supported",
                null));
    }

    public Optional<FimPromptBuilder> fim() {
        return fim;
    }

    public Engine engine() {
        return engine;
    }

    public Tokenizer tokenizer() {
        return engine.tokenizer();
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    /** The draft model speculation uses, if the server was given one. */
    public Optional<DraftModel> draftModel() {
        return draft;
    }

    public ChatTemplate chat() {
        return chat;
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    public String modelId() {
        return modelId;
    }

    public Path modelPath() {
        return modelPath;
    }

    public long created() {
        return created;
    }

    public int contextPerSlot() {
        return scheduler.options().contextLength();
    }

    public int batchSize() {
        return batchSize;
    }

    @Override
    public void close() {
        scheduler.close();
    }
}
