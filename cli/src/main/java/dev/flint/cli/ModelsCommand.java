package dev.flint.cli;

import dev.flint.cli.hub.ProgressBar;
import dev.flint.cli.models.GgufSummary;
import dev.flint.cli.models.ModelCache;
import dev.flint.cli.models.ModelCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code flint models}: the models in the cache, with what their GGUF headers say. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the cached models: name, size, architecture and quantization.")
final class ModelsCommand extends CliCommand {
    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "cache directory (default: $FLINT_HOME, else ~/.cache/flint)")
    Path cacheDir;

    @Override
    public Integer call() throws Exception {
        ModelCache cache = cacheDir != null ? new ModelCache(cacheDir) : ModelCache.fromEnvironment();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ModelCache.Entry e : cache.list()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", ModelCatalog.nameOf(e.file()).orElse(e.file().toString()));
            row.put("ref", e.file().toString());
            row.put("path", e.path().toString());
            row.put("size_bytes", e.size());
            try {
                GgufSummary s = GgufSummary.read(e.path());
                row.put("architecture", s.architecture());
                row.put("quant", s.quant());
            } catch (Exception ex) {
                // one broken file should not hide the others
                row.put("architecture", null);
                row.put("quant", null);
                row.put("error", ex.getMessage());
            }
            rows.add(row);
        }
        if (json) {
            out().println(Json.write(rows));
        } else if (rows.isEmpty()) {
            out().println("no models in " + cache.modelsDir() + "; get one with: flint pull " + ModelCatalog.DEFAULT);
        } else {
            printTable(rows);
        }
        return 0;
    }

    private void printTable(List<Map<String, Object>> rows) {
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[] {"NAME", "SIZE", "ARCH", "QUANT"});
        for (Map<String, Object> r : rows) {
            lines.add(new String[] {(String) r.get("name"), ProgressBar.bytes((Long) r.get("size_bytes")),
                    r.get("architecture") == null ? "?" : (String) r.get("architecture"),
                    r.get("quant") == null ? "? (" + r.get("error") + ")" : (String) r.get("quant")});
        }
        int[] width = new int[4];
        for (String[] l : lines) {
            for (int i = 0; i < 3; i++) {
                width[i] = Math.max(width[i], l[i].length());
            }
        }
        for (String[] l : lines) {
            out().printf("%-" + width[0] + "s  %" + width[1] + "s  %-" + width[2] + "s  %s%n", l[0], l[1], l[2], l[3]);
        }
    }
}
