package dev.flint.cli;

import dev.flint.cli.replay.Attempt;
import dev.flint.cli.replay.Replay;
import dev.flint.cli.replay.ReplayReport;
import dev.flint.cli.replay.ReplaySettings;
import dev.flint.cli.replay.Trace;
import dev.flint.cli.replay.Transports;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code flint bench replay}: a client that re-types a range of a real source file against any server (Flint or
 * llama.cpp's llama-server) and measures each keystroke's FIM request from the client's side. See
 * docs/benchmarks.md, "Replay benchmark".
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replay typing: delete a range of a source file, re-type it one character at a time with one FIM "
                + "request per keystroke, and report time to first token, time to completion and prompt-cache reuse.",
                "Works against Flint and llama.cpp's llama-server (--transport infill) or Flint's WebSocket (ws)."})
final class BenchReplayCommand extends CliCommand {
    enum TransportKind { infill, ws }

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "source file to type")
    Path file;

    @Option(names = "--from", paramLabel = "LINE:COL", description = "start of the range (1-based; default: a few "
            + "lines from the middle of the file)")
    String from;

    @Option(names = "--to", paramLabel = "LINE:COL", description = "end of the range, exclusive (1-based)")
    String to;

    @Option(names = "--url", defaultValue = "http://127.0.0.1:8012", description = "server (default ${DEFAULT-VALUE}); "
            + "llama.vim's endpoint form ending in /infill works too")
    String url;

    @Option(names = "--api-key", paramLabel = "KEY", description = "sent as Authorization: Bearer KEY")
    String apiKey;

    @Option(names = "--transport", defaultValue = "infill", description = "infill (POST /infill, llama.vim's body) or "
            + "ws (Flint's /v1/ws: open once, change + complete per key); default ${DEFAULT-VALUE}")
    TransportKind transport;

    @Option(names = "--interval-ms", defaultValue = "0", description = "0 (default): wait for each completion before "
            + "the next key; N: a key every N ms, cancelling the request in flight as editors do")
    int intervalMs;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", description = "tokens per completion (default 128)")
    int nPredict;

    @Option(names = "--max-keys", defaultValue = "0", description = "type at most this many keys of the range "
            + "(0 = all; default 0)")
    int maxKeys;

    @Option(names = "--warmup", defaultValue = "3", description = "first keys sent, each awaited (not paced) so timing starts from a warm cache, and not counted (default 3)")
    int warmup;

    @Option(names = "--n-prefix", defaultValue = "256", description = "lines before the cursor line (llama.vim: 256)")
    int nPrefix;

    @Option(names = "--n-suffix", defaultValue = "64", description = "lines after the cursor line (llama.vim: 64)")
    int nSuffix;

    @Option(names = "--t-max-predict-ms", defaultValue = "250", description = "generation budget, ended at the next "
            + "newline (llama.vim sends 250 for typing-triggered requests)")
    int tMaxPredictMs;

    @Option(names = "--t-max-prompt-ms", defaultValue = "500", description = "llama.vim's t_max_prompt_ms (default 500)")
    int tMaxPromptMs;

    @Option(names = "--temperature", description = "sampling temperature (default: /infill sends none, so the "
            + "server's default applies; ws sends 0.8, that default)")
    Double temperature;

    @Option(names = "--timeout-s", defaultValue = "60", description = "give up on a request after this long (default 60)")
    int timeoutS;

    @Option(names = "--json", description = "print the report as JSON, with every keystroke")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (nPredict < 0 || maxKeys < 0 || warmup < 0 || intervalMs < 0 || nPrefix < 0 || nSuffix < 0
                || tMaxPredictMs < 0 || tMaxPromptMs < 0 || timeoutS <= 0) {
            throw new ParameterException(spec.commandLine(), "counts and times must not be negative "
                    + "(and --timeout-s must be positive)");
        }
        Trace trace;
        ReplaySettings settings;
        try {
            trace = Trace.load(file, from == null ? null : Trace.Position.parse(from, "--from"),
                    to == null ? null : Trace.Position.parse(to, "--to"), maxKeys);
            settings = new ReplaySettings(ReplaySettings.baseOf(url), apiKey, nPredict, nPrefix, nSuffix,
                    tMaxPromptMs, tMaxPredictMs, temperature, Math.multiplyExact(timeoutS, 1000));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (warmup >= trace.keys().size()) {
            throw new ParameterException(spec.commandLine(), "--warmup " + warmup + " leaves nothing to measure: the "
                    + "range has " + trace.keys().size() + " keys");
        }
        List<Attempt> attempts;
        try (var t = Transports.create(transport.name(), settings, file)) {
            attempts = Replay.run(t, trace, intervalMs, settings.timeoutMs(), warmup);
        }
        Map<String, Object> setup = new LinkedHashMap<>();
        setup.put("transport", transport.name());
        setup.put("url", settings.base().toString());
        setup.put("file", file.toString());
        setup.put("from", trace.from().toString());
        setup.put("to", trace.to().toString());
        setup.put("interval_ms", intervalMs);
        setup.put("n_predict", nPredict);
        setup.put("t_max_predict_ms", tMaxPredictMs);
        Map<String, Object> report = ReplayReport.build(setup, attempts, warmup);
        if (json) {
            out().println(Json.write(report));
        } else {
            ReplayReport.printText(report, out());
        }
        out().flush();
        long failed = (long) report.get("failed");
        if (failed > 0) {
            String first = attempts.stream().map(Attempt::error).filter(e -> e != null).findFirst().orElse("");
            err().println("flint: " + failed + " of " + report.get("requests") + " requests failed; first: " + first);
            return 1;
        }
        return 0;
    }
}
