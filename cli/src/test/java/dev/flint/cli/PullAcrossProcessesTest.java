package dev.flint.cli;

import dev.flint.cli.hub.DownloadListener;
import dev.flint.cli.hub.Downloader;
import dev.flint.cli.hub.FakeHub;
import dev.flint.cli.hub.HubClient;
import dev.flint.cli.hub.HubFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Two processes pulling one file: the second waits on the first's file lock and finds the file done. */
class PullAcrossProcessesTest {
    @Test
    @Timeout(120)
    void aSecondProcessWaitsForTheFirstsDownload(@TempDir Path home) throws Exception {
        byte[] content = new byte[2_000_000];
        new Random(7).nextBytes(content);
        HubFile file = HubFile.parse("hf://o/r/m.gguf");
        try (FakeHub hub = new FakeHub()) {
            hub.host("o/r", "m.gguf", content).throttle(100_000_000); // 31 chunks of 64 KiB: about 3 s
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                    "dev.flint.cli.Main", "pull", file.toString(), "--cache-dir", home.toString(),
                    "--endpoint", hub.endpoint())).redirectErrorStream(true).start();
            try {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (hub.cdnGets.get() == 0 && child.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertEquals(1, hub.cdnGets.get(), "the child process started its download");
                Path target = home.resolve("models/o/r/m.gguf");
                Downloader.Result r = new Downloader(new HubClient(hub.config()), dir -> Long.MAX_VALUE, 1,
                        Duration.ofSeconds(30)).download(file, target, DownloadListener.NONE);
                assertFalse(r.downloaded(), "this process waited and found the child's file");
                assertEquals(0, child.waitFor(), new String(child.getInputStream().readAllBytes()));
                assertEquals(1, hub.cdnGets.get());
                assertArrayEquals(content, Files.readAllBytes(target));
            } finally {
                child.destroyForcibly();
            }
        }
    }
}
