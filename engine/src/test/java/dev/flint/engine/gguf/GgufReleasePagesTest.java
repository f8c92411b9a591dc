package dev.flint.engine.gguf;

import dev.flint.engine.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GgufFile#releasePages}: a tensor's pages leave the process's resident memory (the mapping's {@code Rss} in
 * /proc/self/smaps, Linux) and its bytes read back unchanged afterwards.
 */
class GgufReleasePagesTest {

    @TempDir
    Path dir;

    @Test
    void releasedTensorLeavesResidentMemoryAndStillReadsTheSame() throws IOException {
        int blocks = 8 * 1024 * 1024 / 34; // about 8 MiB of Q8_0 blocks
        byte[] bytes = new byte[blocks * 34];
        new SplittableRandom(3).nextBytes(bytes);
        Path p = dir.resolve("big.gguf");
        new GgufWriter().putString("general.architecture", "test")
                .addTensor("w", GgmlType.Q8_0, new long[] {32L * blocks}, bytes)
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            MemorySegment data = f.tensor("w").data();
            byte[] first = data.toArray(ValueLayout.JAVA_BYTE); // every page faulted in
            long before = residentKib(data);
            assertTrue(before >= bytes.length / 1024 - 8, "resident before: " + before + " KiB");
            f.releasePages(data);
            long after = residentKib(data);
            assertTrue(after < 64, "resident after release: " + after + " KiB of " + before);
            assertArrayEquals(first, data.toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(bytes, first);
        }
    }

    /** The Rss of the mapping that holds {@code s}, from /proc/self/smaps. */
    private static long residentKib(MemorySegment s) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        boolean inside = false;
        for (String line : lines) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                long from = Long.parseUnsignedLong(range[0], 16);
                long to = Long.parseUnsignedLong(range[1], 16);
                inside = from <= s.address() && s.address() < to;
            } else if (inside && line.startsWith("Rss:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no mapping holds address " + Long.toHexString(s.address()));
    }
}
