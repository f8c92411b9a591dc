package dev.flint.cli.models;

import dev.flint.cli.hub.DownloadListener;
import dev.flint.cli.hub.Downloader;
import dev.flint.cli.hub.FakeHub;
import dev.flint.cli.hub.HubClient;
import dev.flint.cli.hub.HubFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ModelResolverTest {
    @Test
    void noModelMeansTheDefaultQwenCoderBase() {
        HubFile f = ModelResolver.reference(null).orElseThrow();
        assertEquals(ModelCatalog.defaultEntry().file(), f);
        assertEquals("ggml-org/Qwen2.5-Coder-0.5B-Q8_0-GGUF", f.repoId());
        assertEquals("qwen2.5-coder-0.5b-q8_0.gguf", f.file());
    }

    @Test
    void shortNamesAndHfReferencesGoThroughTheHubPathsDoNot(@TempDir Path tmp) throws Exception {
        assertEquals("hf://ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF/qwen2.5-coder-1.5b-q8_0.gguf",
                ModelResolver.reference("qwen2.5-coder-1.5b").orElseThrow().toString());
        assertEquals("o/r", ModelResolver.reference("hf://o/r/m.gguf").orElseThrow().repoId());
        Path local = Files.createFile(tmp.resolve("qwen2.5-coder-3b"));
        assertTrue(ModelResolver.reference(local.toString()).isEmpty(), "an existing file wins over a short name");
        assertTrue(ModelResolver.reference("models/missing.gguf").isEmpty(), "a path is left for the loader");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelResolver.reference("qwen-coder"));
        assertTrue(e.getMessage().contains("qwen2.5-coder-0.5b"), e.getMessage());
    }

    @Test
    void everyCatalogEntryIsABaseGgufModel() {
        for (ModelCatalog.Entry e : ModelCatalog.ENTRIES) {
            assertTrue(e.file().file().endsWith(".gguf"), e.name());
            assertFalse(e.file().file().toLowerCase().contains("instruct"), "completion needs base models: " + e);
        }
    }

    @Test
    void pullsAMissingModelOnceAndThenUsesTheCache(@TempDir Path home) throws Exception {
        byte[] bytes = "GGUF pretend".getBytes();
        ModelCache cache = new ModelCache(home);
        StringWriter err = new StringWriter();
        Path resolved;
        try (FakeHub hub = new FakeHub()) {
            hub.host("o/r", "m.gguf", bytes);
            Downloader downloader = new Downloader(new HubClient(hub.config()), dir -> Long.MAX_VALUE, 1,
                    Duration.ofSeconds(5));
            ModelResolver resolver = new ModelResolver(cache, downloader, () -> DownloadListener.NONE,
                    new PrintWriter(err, true));
            resolved = resolver.resolve("hf://o/r/m.gguf");
            assertEquals(home.resolve("models/o/r/m.gguf"), resolved);
            assertArrayEquals(bytes, Files.readAllBytes(resolved));
            assertTrue(err.toString().contains("pulling hf://o/r/m.gguf"), err.toString());
            assertEquals(resolved, resolver.resolve("hf://o/r/m.gguf"));
            assertEquals(1, hub.cdnGets.get());
        }
    }

    @Test
    void cacheLivesInFlintHomeElseUnderDotCache(@TempDir Path tmp) throws Exception {
        assertEquals(tmp.resolve("h"), ModelCache.fromEnvironment(Map.of("FLINT_HOME", tmp.resolve("h").toString()),
                tmp).home());
        assertEquals(tmp.resolve(".cache/flint"), ModelCache.fromEnvironment(Map.of(), tmp).home());
        ModelCache c = new ModelCache(tmp);
        HubFile pinned = new HubFile("o", "r", "sub/m.gguf", "refs/pr/1");
        Path p = c.path(pinned);
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[3]);
        Files.write(p.resolveSibling("m.gguf.part"), new byte[1]);
        var list = c.list();
        assertEquals(1, list.size(), "a .part is not a model");
        assertEquals(pinned, list.get(0).file());
        assertEquals(3, list.get(0).size());
    }
}
