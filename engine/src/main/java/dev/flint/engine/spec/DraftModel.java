package dev.flint.engine.spec;

import dev.flint.engine.Engine;
import dev.flint.engine.ModelLoadException;
import dev.flint.engine.model.Model;
import dev.flint.engine.model.Transformer;
import dev.flint.engine.model.WarmUp;
import dev.flint.engine.tokenizer.Vocabulary;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A small model that drafts tokens for a larger target model sharing its vocabulary (llama-server's
 * {@code --model-draft}). It runs on the target engine's worker threads: the scheduler runs the draft and the target
 * one after the other, never at once, so a second thread pool would only sit idle. Its KV caches belong to the
 * scheduler's slots.
 */
public final class DraftModel implements AutoCloseable {
    private final Path path;
    private final Model model;
    private final Vocabulary vocab;

    private DraftModel(Path path, Model model, Vocabulary vocab) {
        this.path = path;
        this.model = model;
        this.vocab = vocab;
    }

    /**
     * Loads the draft model at {@code path} for {@code target} and, when {@code warmUp}, compiles its kernels now
     * (as the target's were at its load).
     *
     * @throws ModelLoadException if the file cannot be used, or its vocabulary is not the target's
     */
    public static DraftModel load(Path path, Engine target, boolean warmUp) throws IOException {
        Model model = Model.load(path);
        try {
            Vocabulary vocab = Vocabulary.fromGguf(model.gguf());
            if (vocab.size() != model.vocabularySize()) {
                throw new ModelLoadException(path + ": the tokenizer has " + vocab.size()
                        + " tokens but the embedding matrix has " + model.vocabularySize() + " rows");
            }
            var problem = DraftCompatibility.problem(target.tokenizer().vocabulary(), vocab);
            if (problem.isPresent()) {
                throw new ModelLoadException("the draft model " + path.getFileName() + " cannot draft for the target "
                        + target.model().gguf().path().getFileName() + ": " + problem.get()
                        + ". A draft model must share the target's vocabulary (e.g. a smaller model of the same"
                        + " family, such as Qwen2.5-Coder-0.5B for Qwen2.5-Coder-7B)");
            }
            if (warmUp) {
                WarmUp.run(model.transformer(), target.pool(), 64);
            }
            return new DraftModel(path, model, vocab);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public Transformer transformer() {
        return model.transformer();
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    public int vocabularySize() {
        return model.vocabularySize();
    }

    @Override
    public void close() {
        model.close();
    }
}
