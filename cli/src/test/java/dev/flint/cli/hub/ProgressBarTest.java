package dev.flint.cli.hub;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ProgressBarTest {
    @Test
    void progressLineShowsPercentBytesRateAndEta() {
        String line = ProgressBar.render("m.gguf", 512L << 20, 1024L << 20, 64 << 20);
        assertEquals("m.gguf   50% [############............]  512.0 MiB / 1.0 GiB  64.0 MiB/s  ETA 0:08", line);
        assertEquals("1:02:03", ProgressBar.duration(3723));
    }

    @Test
    void progressIntoALogIsALinePerTenthOnce() {
        java.io.StringWriter log = new java.io.StringWriter();
        long[] now = {0};
        ProgressBar bar = new ProgressBar(new java.io.PrintWriter(log), false, () -> now[0]);
        bar.started("m.gguf", 1000, 0);
        for (int done = 50; done <= 1000; done += 50) {
            now[0] += 100_000_000L;
            bar.progress(done);
        }
        bar.finished(true);
        String[] lines = log.toString().split("\n");
        assertEquals(11, lines.length, log.toString()); // 0 %, 10 %, ..., 100 %, the last one not repeated
        assertTrue(lines[10].contains("100%") && lines[10].contains("1000 B / 1000 B"), lines[10]);
    }
}
