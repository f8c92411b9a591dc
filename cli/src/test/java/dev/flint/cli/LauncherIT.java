package dev.flint.cli;

import dev.flint.engine.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's launcher, run as a user runs it: bin/flint on the packaged jar, in its own JVM. */
class LauncherIT {
    private static Path root() {
        return Path.of(System.getProperty("flint.root", "..")).toAbsolutePath().normalize();
    }

    private static String[] run(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = root().resolve("bin/flint").toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "bin/flint did not finish");
        return new String[] {String.valueOf(p.exitValue()), out, err};
    }

    @Test
    void binFlintGeneratesTheStory() throws Exception {
        String[] r = run("generate", "-m", Fixtures.model("stories260K-F32.gguf").toString(),
                "-p", "Once upon a time", "-n", "32", "--temp", "0", "-t", "2");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].startsWith("Once upon a time, there was a little girl named Lily."), r[1]);
    }

    @Test
    void binFlintReportsBadInputWithExitCodeOne() throws Exception {
        String[] r = run("info", "-m", "/no/such/model.gguf");
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("file not found"), r[2]);
    }
}
