package dev.flint.engine;

import dev.flint.engine.generate.GenerationRequest;
import dev.flint.engine.generate.GenerationResult;
import dev.flint.engine.generate.Generator;
import dev.flint.engine.generate.Session;
import dev.flint.engine.generate.SessionFactory;
import dev.flint.engine.generate.TokenListener;
import dev.flint.engine.model.Model;
import dev.flint.engine.model.WarmUp;
import dev.flint.engine.parallel.WorkerPool;
import dev.flint.engine.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The engine's front door: a loaded model, its tokenizer and the threads that run it. Load once, then create a
 * {@link Session} per sequence and {@link #generate} on it.
 *
 * <pre>{@code
 * try (Engine engine = Engine.load(Path.of("model.gguf"), EngineOptions.defaults())) {
 *     Session s = engine.newSession();
 *     int[] prompt = engine.tokenizer().encode("def fib(n):", true, true);
 *     GenerationResult r = engine.generate(s, GenerationRequest.of(prompt, 64, SamplerConfig.greedy()),
 *             (token, text) -> System.out.print(text));
 * }
 * }</pre>
 */
public final class Engine implements AutoCloseable {
    private final Model model;
    private final Tokenizer tokenizer;
    private final WorkerPool pool;
    private final EngineOptions options;
    private final int contextLength;
    private final Generator generator;
    private final SessionFactory sessions;

    private Engine(Model model, Tokenizer tokenizer, EngineOptions options) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = options;
        this.pool = new WorkerPool(options.threads());
        int train = model.config().contextLength();
        this.contextLength = options.contextLength() > 0 ? options.contextLength()
                : Math.min(train, EngineOptions.DEFAULT_CONTEXT_CAP);
        this.generator = new Generator(tokenizer, options.maxDraft());
        this.sessions = new SessionFactory(model.transformer(), pool, options.batchSize());
    }

    public static Engine load(Path path, EngineOptions options) throws IOException {
        Model model = Model.load(path);
        try {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.gguf());
            if (tokenizer.vocabulary().size() != model.vocabularySize()) {
                throw new ModelLoadException(path + ": the tokenizer has " + tokenizer.vocabulary().size()
                        + " tokens but the embedding matrix has " + model.vocabularySize() + " rows");
            }
            Engine engine = new Engine(model, tokenizer, options);
            if (options.warmup()) {
                engine.warmUp();
            }
            return engine;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Runs prompt-sized and decode-sized passes on a scratch sequence so C2 compiles the kernels now rather than
     * during the first user's request.
     */
    private void warmUp() {
        WarmUp.run(model.transformer(), pool, options.batchSize());
        warmUpTokenizer();
    }

    /** Code-like text with the shapes the pre-tokenizers split on: indentation, digits, punctuation, non-ASCII. */
    private static final String SAMPLE_CODE = """
            import os, sys  # comment: \u00fcn\u00efc\u00f6d\u00e9, \u65e5\u672c\u8a9e, emoji \uD83D\uDE00
            def parse(path: str, limit=1024) -> dict[str, int]:
                \"\"\"Counts words.\"\"\"
                counts = {}
                with open(path, "r", encoding="utf-8") as f:
                    for i, line in enumerate(f):
                        if i >= limit:  break
                        for w in line.split():
                            counts[w] = counts.get(w, 0) + 1  # 3.14e-2, 0xFF
            \treturn counts
            public static int[] sum(int[] a, int[] b) { return IntStream.range(0, a.length).map(i -> a[i]).toArray(); }
            """;

    /**
     * Every keystroke tokenizes the editor's context again (kilobytes of text). The JIT log of a fresh server showed
     * the tokenizer still in the interpreter and C1's profiling code during the first few dozen keystrokes; a few
     * passes over code-like text at load compile it (load time unchanged within noise).
     */
    private void warmUpTokenizer() {
        String text = SAMPLE_CODE.repeat(8);
        for (int i = 0; i < 24; i++) {
            int[] ids = tokenizer.encode(text + i, true, (i & 1) == 0);
            tokenizer.decode(ids);
        }
    }

    public Model model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public WorkerPool pool() {
        return pool;
    }

    /** The options the engine was loaded with. */
    public EngineOptions options() {
        return options;
    }

    public int contextLength() {
        return contextLength;
    }

    public Session newSession() {
        return sessions.create(contextLength);
    }

    public Session newSession(int contextLength) {
        return sessions.create(contextLength);
    }

    public GenerationResult generate(Session session, GenerationRequest request, TokenListener listener) {
        return generator.generate(session, request, listener);
    }

    @Override
    public void close() {
        pool.close();
        model.close();
    }
}
