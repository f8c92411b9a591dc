package dev.flint.cli.models;

import dev.flint.cli.hub.DownloadListener;
import dev.flint.cli.hub.Downloader;
import dev.flint.cli.hub.HubClient;
import dev.flint.cli.hub.HubConfig;
import dev.flint.cli.hub.HubFile;
import dev.flint.cli.hub.ProgressBar;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Turns what a user passes as {@code -m} into a model file: an existing path as it is, a short name
 * ({@link ModelCatalog}) or {@code hf://OWNER/REPO/FILE.gguf} through the cache, pulled first when missing, and
 * nothing at all as the default model. Any command that loads a model can use it.
 */
public final class ModelResolver {
    private final ModelCache cache;
    private final Downloader downloader;
    private final Supplier<DownloadListener> progress;
    private final PrintWriter err;

    public ModelResolver(ModelCache cache, Downloader downloader, Supplier<DownloadListener> progress,
                         PrintWriter err) {
        this.cache = cache;
        this.downloader = downloader;
        this.progress = progress;
        this.err = err;
    }

    /** The resolver for the CLI: cache and hub from the environment, progress bar on {@code err}. */
    public static ModelResolver fromEnvironment(PrintWriter err) {
        return new ModelResolver(ModelCache.fromEnvironment(),
                new Downloader(new HubClient(HubConfig.fromEnvironment())), () -> ProgressBar.forStderr(err), err);
    }

    public ModelCache cache() {
        return cache;
    }

    /** The model file for {@code spec} (null or blank: the default model), pulling it if it must. */
    public Path resolve(String spec) throws IOException {
        Optional<HubFile> ref = reference(spec);
        if (ref.isEmpty()) {
            return Path.of(spec);
        }
        return pull(ref.get()).path();
    }

    /** Pulls {@code file} into the cache unless it is there. */
    public Downloader.Result pull(HubFile file) throws IOException {
        Path target = cache.path(file);
        if (Files.isRegularFile(target)) {
            return new Downloader.Result(target, false);
        }
        err.println("flint: pulling " + ModelCatalog.nameOf(file).map(n -> n + " (" + file + ")")
                .orElse(file.toString()) + " into " + target.getParent());
        err.flush();
        return downloader.download(file, target, progress.get());
    }

    /**
     * The hub file {@code spec} names, or empty for a path. An existing file wins over a short name of the same
     * spelling; a word that is neither a file nor a known name is an error that lists the names.
     */
    public static Optional<HubFile> reference(String spec) {
        if (spec == null || spec.isBlank()) {
            return Optional.of(ModelCatalog.defaultEntry().file());
        }
        if (spec.startsWith(HubFile.SCHEME)) {
            return Optional.of(HubFile.parse(spec));
        }
        if (Files.exists(Path.of(spec))) {
            return Optional.empty();
        }
        Optional<ModelCatalog.Entry> named = ModelCatalog.find(spec);
        if (named.isPresent()) {
            return Optional.of(named.get().file());
        }
        if (!spec.contains("/") && !spec.contains("\\") && !spec.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")) {
            throw new IllegalArgumentException("unknown model '" + spec + "': not a file, a short name ("
                    + ModelCatalog.names() + ") or hf://OWNER/REPO/FILE.gguf");
        }
        return Optional.empty(); // a path that does not exist: loading it says so
    }
}
