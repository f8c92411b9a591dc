package dev.flint.engine.model;

import dev.flint.engine.Fixtures;
import dev.flint.engine.ModelLoadException;
import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.gguf.GgufTensor;
import dev.flint.engine.gguf.GgufWriter;
import dev.flint.engine.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Files that are valid GGUF but not a model Flint can run fail at load with a message naming the problem. */
class ModelLoadErrorsTest {
    @TempDir
    Path tmp;

    /** Copies the tiny llama fixture, changing metadata and tensors as told. */
    private Path variant(String name, java.util.function.Consumer<GgufWriter> extraMeta, Predicate<String> dropTensor,
                         String retypeTensor, GgmlType newType) throws IOException {
        Path out = tmp.resolve(name);
        try (GgufFile src = GgufFile.open(Fixtures.model("tiny-llama-spm-Q8_0.gguf"))) {
            GgufWriter w = new GgufWriter();
            w.copyMetadata(src, k -> k.equals("general.architecture") || k.equals("general.alignment"));
            extraMeta.accept(w);
            for (GgufTensor t : src.tensors().values()) {
                if (dropTensor.test(t.name())) {
                    continue;
                }
                if (t.name().equals(retypeTensor)) {
                    long n = t.elementCount();
                    w.addTensor(t.name(), newType, t.shape(), new byte[(int) newType.bytesFor(n)]);
                } else {
                    byte[] bytes = t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    w.addTensor(t.name(), t.type(), t.shape(), bytes);
                }
            }
            w.write(out);
        }
        return out;
    }

    @Test
    void unknownArchitectureIsNamedWithTheSupportedOnes() throws IOException {
        Path p = variant("mamba.gguf", w -> w.putString("general.architecture", "mamba"), n -> false, null, null);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Model.load(p));
        assertTrue(e.getMessage().contains("'mamba' is not supported"), e.getMessage());
        assertTrue(e.getMessage().contains("llama, qwen2, starcoder2"), e.getMessage());
    }

    @Test
    void unsupportedTensorTypeNamesTypeAndTensor() throws IOException {
        Path p = variant("iq2.gguf", w -> w.putString("general.architecture", "llama"), n -> false,
                "blk.0.ffn_down.weight", GgmlType.IQ2_XXS);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Model.load(p));
        assertTrue(e.getMessage().contains("IQ2_XXS"), e.getMessage());
        assertTrue(e.getMessage().contains("blk.0.ffn_down.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("supported: F32"), e.getMessage());
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path p = variant("missing.gguf", w -> w.putString("general.architecture", "llama"),
                n -> n.equals("blk.1.attn_k.weight"), null, null);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Model.load(p));
        assertTrue(e.getMessage().contains("required tensor 'blk.1.attn_k.weight' is missing"), e.getMessage());
    }

    @Test
    void missingHyperParameterIsNamed() throws IOException {
        Path out = tmp.resolve("nometa.gguf");
        new GgufWriter().putString("general.architecture", "llama").write(out);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Model.load(out));
        assertTrue(e.getMessage().contains("llama.embedding_length"), e.getMessage());
    }
}
