package dev.flint.cli.models;

import dev.flint.cli.hub.HubFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where pulled models live: {@code $FLINT_HOME/models/OWNER/REPO/FILE.gguf} ({@code FLINT_HOME} defaults to
 * {@code ~/.cache/flint}); a revision other than {@code main} goes to {@code OWNER/REPO@REVISION/} (slashes as
 * {@code %2F}). Plain files, so a cached model is also an ordinary {@code -m} path for every command.
 */
public record ModelCache(Path home) {
    /** A cached model file. */
    public record Entry(HubFile file, Path path, long size) {}

    public static ModelCache fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    static ModelCache fromEnvironment(Map<String, String> env, Path userHome) {
        String home = env.getOrDefault("FLINT_HOME", "");
        return new ModelCache(home.isBlank() ? userHome.resolve(".cache").resolve("flint") : Path.of(home.strip()));
    }

    public Path modelsDir() {
        return home.resolve("models");
    }

    public Path path(HubFile f) {
        Path p = modelsDir().resolve(f.owner())
                .resolve("main".equals(f.revision()) ? f.repo() : f.repo() + "@" + f.revision().replace("/", "%2F"));
        for (String part : f.file().split("/")) {
            p = p.resolve(part);
        }
        return p;
    }

    /** The complete models in the cache (downloads in progress are {@code .part} files and not listed). */
    public List<Entry> list() throws IOException {
        Path dir = modelsDir();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf"))
                    .sorted(Comparator.naturalOrder())::iterator) {
                Path rel = dir.relativize(p);
                if (rel.getNameCount() < 3) {
                    continue; // not OWNER/REPO/FILE: something a user put there by hand
                }
                String repo = rel.getName(1).toString();
                int at = repo.indexOf('@');
                String file = rel.subpath(2, rel.getNameCount()).toString().replace('\\', '/');
                try {
                    HubFile f = new HubFile(rel.getName(0).toString(), at < 0 ? repo : repo.substring(0, at), file,
                            at < 0 ? "main" : repo.substring(at + 1).replace("%2F", "/"));
                    out.add(new Entry(f, p, Files.size(p)));
                } catch (IllegalArgumentException e) {
                    // a name the hub could not have produced: not ours
                }
            }
        }
        return out;
    }
}
