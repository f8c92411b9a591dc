package dev.flint.engine;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shared read-only fixtures live: {@code -Dflint.fixtures}, else ../shared/fixtures above the checkout. */
public final class Fixtures {
    private Fixtures() {}

    public static Path dir() {
        String prop = System.getProperty("flint.fixtures");
        if (prop != null && Files.isDirectory(Path.of(prop))) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared/fixtures");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("fixtures not found: set -Dflint.fixtures or check out beside ../shared");
    }

    public static Path model(String file) {
        return dir().resolve("models").resolve(file);
    }

    public static Path reference(String file) {
        return dir().resolve("reference").resolve(file);
    }

    public static Path vocab(String file) {
        return dir().resolve("vocab").resolve(file);
    }
}
