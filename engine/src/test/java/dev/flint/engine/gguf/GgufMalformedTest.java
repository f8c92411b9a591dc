package dev.flint.engine.gguf;

import dev.flint.engine.Fixtures;
import dev.flint.engine.ModelLoadException;
import dev.flint.engine.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed files fail with a {@link GgufFormatException} whose message says what is wrong: never a JVM crash, an
 * OutOfMemoryError or a huge allocation. Files are written with {@link GgufWriter} and then corrupted byte-wise.
 */
class GgufMalformedTest {
    @TempDir
    Path tmp;

    /** A small valid file: a few metadata types and two tensors. */
    private byte[] valid() throws IOException {
        Path p = tmp.resolve("valid.gguf");
        new GgufWriter()
                .putString("general.architecture", "llama")
                .putU32("llama.block_count", 2)
                .putF32("llama.rope.freq_base", 10000f)
                .putBool("flag", true)
                .putStringArray("tokenizer.ggml.tokens", new String[] {"a", "b", "c"})
                .putI32Array("ints", new int[] {1, -2, 3})
                .putF32Array("floats", new float[] {0.5f, 1.5f})
                .addTensor("w", GgmlType.F32, new long[] {4, 2}, new byte[32])
                .addTensor("q", GgmlType.Q8_0, new long[] {32}, new byte[34])
                .write(p);
        return Files.readAllBytes(p);
    }

    private Path file(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(tmp, "bad", ".gguf");
        Files.write(p, bytes);
        return p;
    }

    private GgufFormatException fails(byte[] bytes) throws IOException {
        Path p = file(bytes);
        return assertThrows(GgufFormatException.class, () -> {
            try (GgufFile f = GgufFile.open(p)) {
                f.tensors();
            }
        });
    }

    /** Offset of the first byte after the 24-byte header. */
    private static final int AFTER_HEADER = 24;

    private static void putLong(byte[] b, int at, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
    }

    private static void putInt(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
    }

    private static int indexOf(byte[] hay, String needle) {
        byte[] n = needle.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + n.length <= hay.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (hay[i + j] != n[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError(needle + " not found");
    }

    @Test
    void validFileRoundTripsEveryMetadataType() throws IOException {
        try (GgufFile f = GgufFile.open(file(valid()))) {
            assertEquals(3, f.version());
            assertEquals("llama", f.getString("general.architecture", null));
            assertEquals(2, f.getInt("llama.block_count", 0));
            assertEquals(10000f, f.getFloat("llama.rope.freq_base", 0));
            assertTrue(f.getBoolean("flag", false));
            assertArrayEquals(new String[] {"a", "b", "c"}, f.getStringArray("tokenizer.ggml.tokens"));
            assertArrayEquals(new int[] {1, -2, 3}, f.getIntArray("ints"));
            assertArrayEquals(new float[] {0.5f, 1.5f}, f.getFloatArray("floats"));
            assertEquals(2, f.tensors().size());
            for (GgufTensor t : f.tensors().values()) {
                assertEquals(0, (t.fileOffset() - f.dataOffset()) % f.alignment(), t.name() + " is aligned");
            }
        }
    }

    @Test
    void tensorViewReadsBackTheBytesWritten() throws IOException {
        byte[] data = new byte[32];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        Path p = tmp.resolve("t.gguf");
        new GgufWriter().addTensor("w", GgmlType.F32, new long[] {8}, data).write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertArrayEquals(data, f.tensor("w").data().toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void wrongMagicIsNamed() throws IOException {
        byte[] b = valid();
        b[0] = 'X';
        assertTrue(fails(b).getMessage().contains("is not a GGUF file"));
    }

    @Test
    void versionOneIsObsolete() throws IOException {
        byte[] b = valid();
        putInt(b, 4, 1);
        assertTrue(fails(b).getMessage().contains("version 1"));
    }

    @Test
    void bigEndianFileIsRecognised() throws IOException {
        byte[] b = valid();
        putInt(b, 4, Integer.reverseBytes(3));
        assertTrue(fails(b).getMessage().contains("big-endian"));
    }

    @Test
    void unknownVersionIsNamed() throws IOException {
        byte[] b = valid();
        putInt(b, 4, 99);
        assertTrue(fails(b).getMessage().contains("version 99"));
    }

    @Test
    void everyTruncationOfTheHeaderFailsCleanly() throws IOException {
        byte[] b = valid();
        int dataStart;
        int dataEnd = 0; // trailing alignment padding after the last tensor may go missing harmlessly
        try (GgufFile f = GgufFile.open(file(b))) {
            dataStart = (int) f.dataOffset();
            for (GgufTensor t : f.tensors().values()) {
                dataEnd = (int) Math.max(dataEnd, t.fileOffset() + t.data().byteSize());
            }
        }
        for (int len = 0; len < dataEnd; len++) {
            Path p = file(Arrays.copyOf(b, len));
            int n = len;
            Exception e = assertThrows(Exception.class, () -> {
                try (GgufFile f = GgufFile.open(p)) {
                    f.tensors();
                }
            }, "prefix of " + n + " bytes (data starts at " + dataStart + ")");
            assertTrue(e instanceof GgufFormatException, n + ": " + e);
        }
    }

    @Test
    void absurdTensorCountIsRejectedBeforeAllocating() throws IOException {
        byte[] b = valid();
        putLong(b, 8, Long.MAX_VALUE / 2);
        assertTrue(fails(b).getMessage().contains("tensor count"));
    }

    @Test
    void absurdMetadataCountIsRejectedBeforeAllocating() throws IOException {
        byte[] b = valid();
        putLong(b, 16, 1L << 40);
        assertTrue(fails(b).getMessage().contains("metadata count"));
    }

    @Test
    void stringLengthPastTheEndIsRejected() throws IOException {
        byte[] b = valid();
        putLong(b, AFTER_HEADER, 1L << 50); // length of the first key
        assertTrue(fails(b).getMessage().contains("truncated or corrupt"));
    }

    @Test
    void hugeArrayIsRejectedBeforeAllocating() throws IOException {
        byte[] b = valid();
        int at = indexOf(b, "tokenizer.ggml.tokens") + "tokenizer.ggml.tokens".length() + 4 + 4; // key, type, elem type
        putLong(b, at, 1L << 40);
        assertTrue(fails(b).getMessage().contains("more than the file can hold"));
    }

    @Test
    void unknownValueTypeIsNamed() throws IOException {
        byte[] b = valid();
        int at = indexOf(b, "general.architecture") + "general.architecture".length();
        putInt(b, at, 77);
        assertTrue(fails(b).getMessage().contains("unknown value type 77"));
    }

    @Test
    void deeplyNestedArraysAreRejected() throws IOException {
        // hand-made: one key whose value is an array of arrays of arrays ... deeper than any writer produces
        ByteBuffer bb = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(GgufFile.MAGIC).putInt(3).putLong(0).putLong(1);
        bb.putLong(1).put((byte) 'k').putInt(9);
        for (int i = 0; i < 6; i++) {
            bb.putInt(9).putLong(1); // element type ARRAY, one element
        }
        bb.putInt(4).putLong(0);
        assertTrue(fails(Arrays.copyOf(bb.array(), bb.position() + 32)).getMessage().contains("deeper"));
    }

    private byte[] withTensorInfo(int nDims, long[] dims, int type, long offset) {
        ByteBuffer bb = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(GgufFile.MAGIC).putInt(3).putLong(1).putLong(0);
        bb.putLong(1).put((byte) 't').putInt(nDims);
        for (long d : dims) {
            bb.putLong(d);
        }
        bb.putInt(type).putLong(offset);
        return Arrays.copyOf(bb.array(), 512);
    }

    @Test
    void badRankIsNamed() throws IOException {
        assertTrue(fails(withTensorInfo(0, new long[0], 0, 0)).getMessage().contains("0 dimensions"));
        assertTrue(fails(withTensorInfo(5, new long[] {1, 1, 1, 1, 1}, 0, 0)).getMessage().contains("5 dimensions"));
    }

    @Test
    void zeroOrHugeDimensionIsRejected() throws IOException {
        assertTrue(fails(withTensorInfo(1, new long[] {0}, 0, 0)).getMessage().contains("impossible dimension"));
        assertTrue(fails(withTensorInfo(1, new long[] {1L << 60}, 0, 0)).getMessage().contains("impossible dimension"));
    }

    @Test
    void elementCountOverflowIsRejected() throws IOException {
        assertTrue(fails(withTensorInfo(4, new long[] {400, 400, 400, 400}, 0, 0)).getMessage()
                .contains("past the end"));
    }

    @Test
    void unknownTensorTypeNamesTensorAndId() throws IOException {
        String m = fails(withTensorInfo(1, new long[] {32}, 99, 0)).getMessage();
        assertTrue(m.contains("'t'") && m.contains("type id 99"), m);
    }

    @Test
    void rowNotMultipleOfBlockSizeIsRejected() throws IOException {
        String m = fails(withTensorInfo(1, new long[] {33}, GgmlType.Q8_0.id, 0)).getMessage();
        assertTrue(m.contains("not a multiple of the block size 32"), m);
    }

    @Test
    void tensorPastTheEndOfTheFileIsRejected() throws IOException {
        String m = fails(withTensorInfo(1, new long[] {32}, 0, 1L << 20)).getMessage();
        assertTrue(m.contains("lies past the end of the file"), m);
    }

    @Test
    void duplicateTensorNamesAreRejected() throws IOException {
        Path p = tmp.resolve("dup.gguf");
        new GgufWriter().addTensor("w", GgmlType.F32, new long[] {4}, new byte[16])
                .addTensor("w", GgmlType.F32, new long[] {4}, new byte[16]).write(p);
        assertTrue(fails(Files.readAllBytes(p)).getMessage().contains("appears twice"));
    }

    @Test
    void nonPowerOfTwoAlignmentIsRejected() throws IOException {
        Path p = tmp.resolve("align.gguf");
        new GgufWriter().putU32("general.alignment", 24).write(p);
        assertTrue(fails(Files.readAllBytes(p)).getMessage().contains("power of two"));
    }

    @Test
    void realFixtureOpensWithItsTensors() throws IOException {
        try (GgufFile f = GgufFile.open(Fixtures.model("tiny-qwen2-F16.gguf"))) {
            assertEquals("qwen2", f.getString("general.architecture", null));
            assertTrue(f.tensors().containsKey("token_embd.weight"));
        }
    }

    @Test
    void filesLargerThanTwoGibOpenAndTheirLastBytesRead() throws IOException {
        Path p = tmp.resolve("big.gguf");
        long offset = 3L << 30; // tensor data 3 GiB into the data section
        byte[] head = withTensorInfo(1, new long[] {8}, GgmlType.F32.id, offset);
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.write(head);
            raf.setLength(head.length + offset + 64); // sparse: no 3 GiB written
        }
        long dataStart;
        try (GgufFile f = GgufFile.open(p)) {
            dataStart = f.dataOffset();
        }
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.seek(dataStart + offset + 28);
            raf.write(new byte[] {1, 2, 3, 4});
        }
        try (GgufFile f = GgufFile.open(p)) {
            byte[] last = f.tensor("t").data().asSlice(28, 4).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(new byte[] {1, 2, 3, 4}, last);
        } catch (ModelLoadException e) {
            throw new AssertionError(e);
        }
    }
}
