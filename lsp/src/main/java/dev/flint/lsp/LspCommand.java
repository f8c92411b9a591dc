package dev.flint.lsp;

import org.eclipse.lsp4j.jsonrpc.Launcher;
import org.eclipse.lsp4j.launch.LSPLauncher;
import org.eclipse.lsp4j.services.LanguageClient;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;

/**
 * {@code flint lsp}: a language server on stdin/stdout that completes code through a Flint server, either a
 * running one ({@code --server URL}) or one it starts over a model ({@code -m MODEL}). Registered as a subcommand
 * of the {@code flint} CLI; {@link #main} runs it alone (tests, or a classpath without the CLI).
 */
@Command(name = "lsp",
        description = {"Language server (LSP over stdio): completions from a running Flint server or an in-process "
                + "model, for editors with LSP clients (Neovim, Helix, VS Code, Emacs, ...).",
                "Answers textDocument/completion (one item: the model's text at the cursor) and "
                        + "textDocument/inlineCompletion (LSP 3.18 ghost text). Logs go to stderr."})
public final class LspCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--server", paramLabel = "URL",
                description = "a running Flint server, e.g. http://127.0.0.1:8012 (its WebSocket is /v1/ws)")
        String server;

        @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
                description = "run a model in-process instead (a Flint server on a loopback port)")
        Path model;
    }

    @Option(names = "--api-key", paramLabel = "KEY", description = "the --server's API key")
    String apiKey;

    @Option(names = "--debounce-ms", paramLabel = "MS", defaultValue = "" + LspOptions.DEFAULT_DEBOUNCE_MS,
            description = "wait this long before sending a completion; a newer one in the meantime replaces it "
                    + "(default ${DEFAULT-VALUE})")
    int debounceMs;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "96",
            description = "tokens per completion at most (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--t-max-predict-ms", paramLabel = "MS", defaultValue = "500",
            description = "stop at the first newline after this much generation time, 0 = never (default "
                    + "${DEFAULT-VALUE})")
    int tMaxPredictMs;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "with -m: compute threads (default: available CPUs)")
    int threads;

    @Option(names = {"-c", "--ctx"}, paramLabel = "N", defaultValue = "4096",
            description = "with -m: context tokens per slot (default ${DEFAULT-VALUE})")
    int ctx;

    @Option(names = {"-np", "--parallel"}, paramLabel = "N", defaultValue = "2",
            description = "with -m: slots (default ${DEFAULT-VALUE}: one completing, one being cancelled)")
    int parallel;

    @Option(names = "--trace", description = "log every Flint protocol message to stderr")
    boolean trace;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
    boolean help;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LspCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        LspOptions options = LspOptions.defaults().withDebounceMs(debounceMs).withMaxTokens(maxTokens)
                .withTMaxPredictMs(tMaxPredictMs).withTrace(trace);
        if (apiKey != null && target.server == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--api-key goes with --server, not -m");
        }
        if (target.model != null && !Files.isRegularFile(target.model)) {
            throw new NoSuchFileException(target.model.toString());
        }
        if (target.server != null) {
            Backend.webSocketUri(target.server); // a bad URL fails here, while stdout is still the terminal's
        }
        // stdout is the LSP channel: anything else printed there (a library's banner) would corrupt it
        OutputStream lspOut = new FileOutputStream(FileDescriptor.out);
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
        FlintLanguageServer server = target.server != null
                ? FlintLanguageServer.remote(target.server, apiKey, options)
                : FlintLanguageServer.inProcess(target.model, threads, ctx, parallel, options);
        return serve(server, new FileInputStream(FileDescriptor.in), lspOut);
    }

    /** Serves LSP on the streams until the client exits or hangs up; returns the exit code LSP asks for. */
    public static int serve(FlintLanguageServer server, InputStream in, OutputStream out) throws Exception {
        Launcher<LanguageClient> launcher = LSPLauncher.createServerLauncher(server, in, out);
        Future<Void> listening = launcher.startListening();
        Thread.ofVirtual().start(() -> {
            try {
                listening.get();
            } catch (Exception ignored) {
                // the client hung up
            }
            server.exit();
        });
        try {
            return server.exited().get();
        } finally {
            server.close();
        }
    }
}
