package dev.flint.engine.model;

import dev.flint.engine.Fixtures;
import dev.flint.engine.ModelLoadException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A machine whose vectors are narrower than the kernels need gets a sentence, not an ExceptionInInitializerError.
 * Run in a child JVM limited to SSE (-XX:UseAVX=0: 128-bit vectors, as on ARM NEON), so x86-64 only.
 */
class NarrowVectorsTest {
    @Test
    void loadingOn128BitVectorsFailsWithTheReason() throws Exception {
        String arch = System.getProperty("os.arch");
        assumeTrue(arch.equals("amd64") || arch.equals("x86_64"), "-XX:UseAVX exists on x86-64 only");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-XX:UseAVX=0", "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), LoadOnce.class.getName(),
                Fixtures.model("tiny-llama-spm-Q8_0.gguf").toString()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM finished");
        assertEquals(3, p.exitValue(), out);
        assertTrue(out.contains("vectors are 128 bits wide") && out.contains("need at least 256 bits"), out);
    }

    /** The child: loads a model, prints a ModelLoadException's message and exits with 3. */
    public static final class LoadOnce {
        public static void main(String[] args) throws Exception {
            try (Model m = Model.load(Path.of(args[0]))) {
                System.out.println("loaded " + m.config().architecture());
            } catch (ModelLoadException e) {
                System.out.println(e.getMessage());
                System.exit(3);
            }
        }
    }
}
