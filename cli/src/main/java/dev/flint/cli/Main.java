package dev.flint.cli;

import dev.flint.lsp.LspCommand;
import picocli.CommandLine;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;

/** The {@code flint} command line. */
@Command(name = "flint", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Real-time code completion with a pure-Java GGUF engine.",
        subcommands = {InfoCommand.class, TokenizeCommand.class, EvalCommand.class, GenerateCommand.class,
                SynthCommand.class, BenchCommand.class, ServeCommand.class, BenchServerCommand.class,
                PullCommand.class, ModelsCommand.class, LspCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
        return run(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true),
                new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true), args);
    }

    /** Runs the CLI writing to the given streams. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(new ErrorHandler());
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"flint " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }

    /** Turns expected failures (bad model file, bad input) into one clear line and exit code 1, no stack trace. */
    static final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            if (e instanceof java.nio.file.NoSuchFileException nsf) {
                msg = "file not found: " + nsf.getFile();
            }
            cl.getErr().println("flint: " + msg);
            if (System.getenv("FLINT_DEBUG") != null) {
                e.printStackTrace(cl.getErr());
            }
            return 1;
        }
    }
}
