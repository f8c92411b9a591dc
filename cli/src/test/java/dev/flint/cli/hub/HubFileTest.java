package dev.flint.cli.hub;

import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.junit.jupiter.api.Assertions.*;

class HubFileTest {
    @Test
    void parsesOwnerRepoFileAndRevision() {
        HubFile f = HubFile.parse("hf://ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF/qwen2.5-coder-1.5b-q8_0.gguf");
        assertEquals("ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF", f.repoId());
        assertEquals("qwen2.5-coder-1.5b-q8_0.gguf", f.file());
        assertEquals("main", f.revision());
        HubFile pinned = HubFile.parse("hf://o/r/sub/dir/m.gguf@v1.0");
        assertEquals("sub/dir/m.gguf", pinned.file());
        assertEquals("v1.0", pinned.revision());
        assertEquals("hf://o/r/sub/dir/m.gguf@v1.0", pinned.toString());
    }

    @Test
    void buildsTheResolveUrlLikeHfHubUrl() {
        HubConfig c = HubConfig.of("https://mirror.example/hf/");
        // the revision is one segment (its slashes encoded), the file keeps its folders
        assertEquals(URI.create("https://mirror.example/hf/o/r/resolve/refs%2Fpr%2F1/sub/a%20b.gguf"),
                c.resolveUri(new HubFile("o", "r", "sub/a b.gguf", "refs/pr/1")));
    }

    @Test
    void refusesReferencesThatCouldEscapeTheCacheOrAreNotGguf() {
        assertThrows(IllegalArgumentException.class, () -> HubFile.parse("hf://o/r/../../etc/passwd.gguf"));
        assertThrows(IllegalArgumentException.class, () -> HubFile.parse("hf://o/r/model.safetensors"));
        assertThrows(IllegalArgumentException.class, () -> HubFile.parse("hf://o/model.gguf"));
        assertThrows(IllegalArgumentException.class, () -> HubConfig.of("ftp://example.com"));
    }

    @Test
    void readsTheEndpointAndTokenFromHuggingFacesVariables() {
        HubConfig d = HubConfig.fromEnvironment(java.util.Map.of());
        assertEquals(URI.create("https://huggingface.co"), d.endpoint());
        assertTrue(d.token().isEmpty());
        HubConfig m = HubConfig.fromEnvironment(java.util.Map.of("HF_ENDPOINT", "http://127.0.0.1:9", "HF_TOKEN", "t"));
        assertEquals(URI.create("http://127.0.0.1:9"), m.endpoint());
        assertEquals("t", m.token().orElseThrow());
    }

    @Test
    void takesTheSha256FromAnLfsEtagOnly() {
        String sha = "a".repeat(64);
        assertEquals(sha, RemoteFile.sha256FromEtag("\"" + sha + "\"").orElseThrow());
        assertEquals(sha, RemoteFile.sha256FromEtag("W/\"" + sha.toUpperCase() + "\"").orElseThrow());
        assertTrue(RemoteFile.sha256FromEtag("\"" + "b".repeat(40) + "\"").isEmpty(), "a git blob id is no sha256");
    }
}
