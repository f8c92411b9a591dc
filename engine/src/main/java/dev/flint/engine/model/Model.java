package dev.flint.engine.model;

import dev.flint.engine.ModelLoadException;
import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.gguf.GgufTensor;
import dev.flint.engine.tensor.VectorWidth;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A loaded model: the mapped GGUF file, its hyper-parameters, weights and the transformer that runs them. Loading maps
 * the file and binds tensor views; it copies nothing large. Thread-safe to share; sequences live in their own caches.
 */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Transformer transformer;

    private Model(GgufFile file, ModelConfig config, ModelWeights weights, Transformer transformer) {
        this.file = file;
        this.config = config;
        this.weights = weights;
        this.transformer = transformer;
    }

    public static Model load(Path path) throws IOException {
        GgufFile f = GgufFile.open(path);
        try {
            return fromGguf(f);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    static Model fromGguf(GgufFile f) {
        VectorWidth.require(); // before any kernel class initialises
        ModelConfig config = ModelConfig.from(f);
        GgufTensor embd = f.tensor("token_embd.weight");
        if (embd == null) {
            throw new ModelLoadException(f.path() + ": required tensor 'token_embd.weight' is missing");
        }
        int nVocab = Math.toIntExact(embd.dim(1));
        ModelWeights weights = ModelWeights.load(f, config, nVocab);
        return new Model(f, config, weights, new Transformer(config, weights, nVocab));
    }

    public GgufFile gguf() {
        return file;
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public Transformer transformer() {
        return transformer;
    }

    public int vocabularySize() {
        return transformer.vocabularySize();
    }

    @Override
    public void close() {
        file.close();
    }
}
