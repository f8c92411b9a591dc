package dev.flint.cli.models;

import dev.flint.cli.hub.HubFile;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Short names for recommended code-completion models: base (not instruct) models with fill-in-the-middle tokens, in
 * Q8_0. The Qwen2.5-Coder files are the ggml-org repositories llama.cpp's {@code --fim-qwen-*-default} and
 * {@code --fim-qwen-*-spec} presets download (common/arg.cpp) and llama.vim / llama.vscode recommend; the others are
 * the files Continue's and twinny's docs point at. Keep README.md's table in step with this one.
 */
public final class ModelCatalog {
    public record Entry(String name, HubFile file, String note) {}

    public static final List<Entry> ENTRIES = List.of(
            entry("qwen2.5-coder-0.5b", "ggml-org/Qwen2.5-Coder-0.5B-Q8_0-GGUF", "qwen2.5-coder-0.5b-q8_0.gguf",
                    "default; 0.5 GB, fastest on a laptop CPU"),
            entry("qwen2.5-coder-1.5b", "ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF", "qwen2.5-coder-1.5b-q8_0.gguf",
                    "1.6 GB, better completions, about 3x slower"),
            entry("qwen2.5-coder-3b", "ggml-org/Qwen2.5-Coder-3B-Q8_0-GGUF", "qwen2.5-coder-3b-q8_0.gguf",
                    "3.3 GB"),
            entry("qwen2.5-coder-7b", "ggml-org/Qwen2.5-Coder-7B-Q8_0-GGUF", "qwen2.5-coder-7b-q8_0.gguf",
                    "8.1 GB"),
            entry("qwen2.5-coder-14b", "ggml-org/Qwen2.5-Coder-14B-Q8_0-GGUF", "qwen2.5-coder-14b-q8_0.gguf",
                    "15.7 GB"),
            entry("deepseek-coder-1.3b", "TheBloke/deepseek-coder-1.3b-base-GGUF",
                    "deepseek-coder-1.3b-base.Q8_0.gguf", "1.4 GB, llama architecture"),
            entry("starcoder2-3b", "second-state/StarCoder2-3B-GGUF", "starcoder2-3b-Q8_0.gguf",
                    "3.2 GB, starcoder2 architecture"));

    /**
     * The model {@code flint serve} uses when given none. Qwen2.5-Coder-0.5B Q8_0, not 1.5B: completion has to keep
     * up with typing, and on the 2-core reference machine Flint evaluates the 0.5B at about 56 prompt tokens/s and
     * generates 18.5 tokens/s (docs/benchmarks.md); the 1.5B has three times the weights to stream per token, which
     * puts a laptop CPU at a few tokens per second. Q8_0 because it is the type llama.cpp's presets ship and the
     * fastest of Flint's kernels. Pull qwen2.5-coder-1.5b for better suggestions on a fast machine.
     */
    public static final String DEFAULT = "qwen2.5-coder-0.5b";

    private ModelCatalog() {}

    public static Optional<Entry> find(String name) {
        return ENTRIES.stream().filter(e -> e.name().equalsIgnoreCase(name)).findFirst();
    }

    public static Entry defaultEntry() {
        return find(DEFAULT).orElseThrow();
    }

    /** The short name a hub file is known by, if any. */
    public static Optional<String> nameOf(HubFile file) {
        return ENTRIES.stream().filter(e -> e.file().equals(file)).map(Entry::name).findFirst();
    }

    public static String names() {
        return ENTRIES.stream().map(Entry::name).collect(Collectors.joining(", "));
    }

    private static Entry entry(String name, String repo, String file, String note) {
        String[] r = repo.split("/");
        return new Entry(name, new HubFile(r[0], r[1], file, "main"), note);
    }
}
