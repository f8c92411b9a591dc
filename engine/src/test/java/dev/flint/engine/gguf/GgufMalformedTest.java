package dev.flint.engine.gguf;

import dev.flint.engine.ModelLoadException;
import dev.flint.engine.tensor.GgmlType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed GGUF files must fail with a {@link ModelLoadException} whose message says what is wrong, never with a
 * JVM error, an unchecked exception of another kind, or a huge allocation. Each test starts from a valid file written
 * by {@link GgufWriter} (or assembled field by field with {@link RawGguf}) and breaks one thing.
 */
class GgufMalformedTest {

    @TempDir
    Path dir;
    private byte[] valid;
    private int files;

    @BeforeEach
    void writeValidFile() throws IOException {
        Path p = dir.resolve("valid.gguf");
        new GgufWriter()
                .putString("general.architecture", "llama")
                .putU32("llama.context_length", 128)
                .putStringArray("tokenizer.ggml.tokens", new String[] {"a", "b", "c"})
                .putF32("llama.rope.freq_base", 10000f)
                .addTensor("tq8", GgmlType.Q8_0, new long[] {32, 2}, new byte[68])
                .addTensor("tf32", GgmlType.F32, new long[] {8, 4}, new byte[128]) // last, 128 bytes: no tail padding
                .write(p);
        valid = Files.readAllBytes(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(2, f.tensors().size());
        }
    }

    private Path file(byte[] bytes) throws IOException {
        return Files.write(dir.resolve("case" + (files++) + ".gguf"), bytes);
    }

    private Path patched(Consumer<byte[]> patch) throws IOException {
        byte[] b = valid.clone();
        patch.accept(b);
        return file(b);
    }

    private static ModelLoadException rejected(Path p) {
        return assertThrows(ModelLoadException.class, () -> {
            try (GgufFile f = GgufFile.open(p)) {
                f.tensors();
            }
        });
    }

    /** Rejected with a message containing every fragment (case-insensitive). */
    private static void assertRejected(Path p, String... fragments) {
        String msg = rejected(p).getMessage();
        for (String f : fragments) {
            assertTrue(msg.toLowerCase().contains(f.toLowerCase()), "message lacks '" + f + "': " + msg);
        }
    }

    @Test
    void wrongMagic() throws IOException {
        assertRejected(patched(b -> System.arraycopy("GGML".getBytes(), 0, b, 0, 4)), "not a GGUF file");
        assertRejected(patched(b -> Arrays.fill(b, 0, 4, (byte) 0)), "not a GGUF file");
    }

    @Test
    void versionOneIsRejectedAsObsolete() throws IOException {
        assertRejected(patched(b -> RawGguf.putU32(b, 4, 1)), "version 1", "obsolete");
    }

    @Test
    void bigEndianFileIsRecognised() throws IOException {
        for (int v : new int[] {2, 3}) {
            assertRejected(patched(b -> RawGguf.putU32(b, 4, Integer.reverseBytes(v))), "big-endian");
        }
    }

    @Test
    void unknownVersion() throws IOException {
        assertRejected(patched(b -> RawGguf.putU32(b, 4, 4)), "unsupported GGUF version 4");
        assertRejected(patched(b -> RawGguf.putU32(b, 4, 0)), "unsupported GGUF version 0");
        assertRejected(patched(b -> RawGguf.putU32(b, 4, 0xFFFFFFFFL)), "unsupported GGUF version 4294967295");
    }

    @Test
    void truncatedAtEveryOffset() throws IOException {
        Path p = dir.resolve("prefix.gguf");
        for (int len = 0; len < valid.length; len++) {
            Files.write(p, Arrays.copyOf(valid, len));
            String msg = rejected(p).getMessage();
            int at = len;
            assertTrue(msg.contains("too short") || msg.contains("truncated"), () -> "prefix " + at + ": " + msg);
        }
    }

    @Test
    void absurdTensorCount() throws IOException {
        for (long n : new long[] {1L << 62, -1L, 1L << 20, 1000}) {
            assertRejected(patched(b -> RawGguf.putU64(b, 8, n)), "tensor count " + Long.toUnsignedString(n));
        }
    }

    @Test
    void absurdMetadataCount() throws IOException {
        // (2^64 + 10) / 13: times the 13-byte minimum per entry, this wraps around to 10 in 64-bit arithmetic
        long wraps = Long.divideUnsigned(-1L, 13) + 1;
        assertEquals(10, wraps * 13);
        for (long n : new long[] {1L << 60, -1L, wraps, 1000}) {
            assertRejected(patched(b -> RawGguf.putU64(b, 16, n)), "metadata count " + Long.toUnsignedString(n));
        }
    }

    @Test
    void stringLengthPastTheEnd() throws IOException {
        int keyLen = 24; // length of the first key
        for (long n : new long[] {1L << 40, -1L, valid.length}) {
            assertRejected(patched(b -> RawGguf.putU64(b, keyLen, n)), "truncated", "metadata key #0");
        }
        // a string value, and a tensor name
        int valueLen = RawGguf.after(valid, "general.architecture") + 4;
        assertRejected(patched(b -> RawGguf.putU64(b, valueLen, 1L << 40)), "value of general.architecture");
        int nameLen = RawGguf.after(valid, "tf32") - 4 - 8;
        assertRejected(patched(b -> RawGguf.putU64(b, nameLen, Long.MAX_VALUE)), "tensor name #1");
    }

    @Test
    void arrayWith2To40Elements() throws IOException {
        for (GgufValueType t : new GgufValueType[] {GgufValueType.UINT8, GgufValueType.STRING, GgufValueType.ARRAY}) {
            Path p = RawGguf.header(0, 1).key("big", GgufValueType.ARRAY).u32(t.ordinal()).u64(1L << 40).zeros(64)
                    .write(dir.resolve("array-" + t + ".gguf"));
            assertRejected(p, "big", "1099511627776 elements");
        }
        int tokens = RawGguf.after(valid, "tokenizer.ggml.tokens") + 4 + 4;
        assertRejected(patched(b -> RawGguf.putU64(b, tokens, 1L << 40)), "tokenizer.ggml.tokens", "elements");
    }

    @Test
    void nestedArraysTooDeep() throws IOException {
        for (int depth : new int[] {5, 100_000}) {
            RawGguf raw = RawGguf.header(0, 1).key("deep", GgufValueType.ARRAY);
            for (int i = 0; i < depth; i++) {
                raw.u32(GgufValueType.ARRAY.ordinal()).u64(1);
            }
            raw.u32(GgufValueType.UINT8.ordinal()).u64(0);
            assertRejected(raw.write(dir.resolve("deep" + depth + ".gguf")), "deep", "nests arrays deeper");
        }
        // four levels are fine
        RawGguf raw = RawGguf.header(0, 1).key("ok", GgufValueType.ARRAY);
        for (int i = 0; i < 3; i++) {
            raw.u32(GgufValueType.ARRAY.ordinal()).u64(1);
        }
        raw.u32(GgufValueType.UINT8.ordinal()).u64(2).u8(7).u8(9);
        try (GgufFile f = GgufFile.open(raw.write(dir.resolve("ok.gguf")))) {
            Object[] l1 = (Object[]) f.metadata().get("ok");
            int[] leaf = (int[]) ((Object[]) ((Object[]) l1[0])[0])[0];
            assertEquals(9, leaf[1]);
        }
    }

    @Test
    void unknownMetadataValueType() throws IOException {
        int type = RawGguf.after(valid, "llama.context_length");
        for (int id : new int[] {13, 99, -1}) {
            assertRejected(patched(b -> RawGguf.putU32(b, type, id)), "llama.context_length",
                    "unknown value type " + id);
        }
        int elemType = RawGguf.after(valid, "tokenizer.ggml.tokens") + 4;
        assertRejected(patched(b -> RawGguf.putU32(b, elemType, 77)), "tokenizer.ggml.tokens", "unknown type 77");
    }

    @Test
    void tensorWithZeroOrTooManyDimensions() throws IOException {
        RawGguf.TensorInfo t = RawGguf.tensorInfo(valid, "tf32");
        for (int n : new int[] {0, 5, -1}) {
            assertRejected(patched(b -> RawGguf.putU32(b, t.nDims(), n)), "tf32", n + " dimensions");
        }
    }

    @Test
    void zeroOrHugeDimension() throws IOException {
        RawGguf.TensorInfo t = RawGguf.tensorInfo(valid, "tf32");
        for (long d : new long[] {0, 1L << 40, -1L}) {
            assertRejected(patched(b -> RawGguf.putU64(b, t.dims() + 8, d)), "tf32", "impossible dimension");
        }
    }

    @Test
    void elementCountOverflow() throws IOException {
        // dimensions are bounded by the file size, so the file must be big enough for 2^18 to be plausible
        Path p = dir.resolve("big.gguf");
        new GgufWriter()
                .addTensor("filler", GgmlType.F32, new long[] {1 << 15}, new byte[1 << 17])
                .addTensor("t", GgmlType.F32, new long[] {2, 2, 2, 2}, new byte[64])
                .write(p);
        byte[] big = Files.readAllBytes(p);
        RawGguf.TensorInfo t = RawGguf.tensorInfo(big, "t");
        // 2^72 elements: the element count itself overflows
        byte[] a = big.clone();
        for (int i = 0; i < 4; i++) {
            RawGguf.putU64(a, t.dims() + 8 * i, 1L << 18);
        }
        assertRejected(file(a), "'t'", "too many elements");
        // 2^62 elements fit in a long, but as F32 they are 2^64 bytes
        byte[] b = a.clone();
        RawGguf.putU64(b, t.dims() + 24, 1L << 8);
        assertRejected(file(b), "'t'", "too many");
    }

    @Test
    void unknownTensorTypeNamesTensorAndId() throws IOException {
        RawGguf.TensorInfo t = RawGguf.tensorInfo(valid, "tq8");
        for (int id : new int[] {4, 5, 31, 40, 63, 64, 1000, -1}) {
            assertRejected(patched(b -> RawGguf.putU32(b, t.type(), id)), "tensor 'tq8'", "type id " + id);
        }
    }

    @Test
    void rowNotAMultipleOfTheBlockSize() throws IOException {
        RawGguf.TensorInfo t = RawGguf.tensorInfo(valid, "tq8");
        for (long d : new long[] {33, 16, 1}) {
            assertRejected(patched(b -> RawGguf.putU64(b, t.dims(), d)), "tq8", "Q8_0",
                    "row length " + d, "block size 32");
        }
    }

    @Test
    void tensorOffsetPastTheEndOfTheFile() throws IOException {
        RawGguf.TensorInfo t = RawGguf.tensorInfo(valid, "tf32");
        try (GgufFile f = GgufFile.open(file(valid))) {
            long lastValid = f.tensor("tf32").fileOffset() - f.dataOffset();
            for (long off : new long[] {lastValid + 32, 1L << 40, -32L, Long.MAX_VALUE - 31}) {
                assertRejected(patched(b -> RawGguf.putU64(b, t.offset(), off)), "tf32", "past the end");
            }
        }
    }

    @Test
    void tensorOffsetNotAligned() throws IOException {
        RawGguf.TensorInfo t = RawGguf.tensorInfo(valid, "tq8");
        assertRejected(patched(b -> RawGguf.putU64(b, t.offset(), 4)), "tq8", "offset 4", "multiple of 32");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        Path p = dir.resolve("dup.gguf");
        new GgufWriter()
                .addTensor("w", GgmlType.F32, new long[] {8}, new byte[32])
                .addTensor("w", GgmlType.F32, new long[] {8}, new byte[32])
                .write(p);
        assertRejected(p, "'w'", "appears twice");
    }

    @Test
    void duplicateMetadataKeys() throws IOException {
        Path p = dir.resolve("dupkey.gguf");
        new GgufWriter().putU32("a.b", 1).putString("a.b", "x").write(p);
        assertRejected(p, "'a.b'", "twice");
    }

    @Test
    void alignmentMustBeAPowerOfTwo() throws IOException {
        for (long a : new long[] {48, 0, 3, 0x8000_0000L}) {
            Path p = dir.resolve("align" + a + ".gguf");
            RawGguf.header(0, 1).key("general.alignment", GgufValueType.UINT32).u32(a).write(p);
            assertRejected(p, "general.alignment", "power of two");
        }
        // a wrong value type is a clear error too, not a ClassCastException
        Path s = RawGguf.header(0, 1).key("general.alignment", GgufValueType.STRING).str("32")
                .write(dir.resolve("align-string.gguf"));
        assertRejected(s, "general.alignment");
        // a 64-bit value must not be truncated to a valid one
        Path big = RawGguf.header(0, 1).key("general.alignment", GgufValueType.UINT64).u64((1L << 32) + 32)
                .write(dir.resolve("align-u64.gguf"));
        assertRejected(big, "general.alignment", "power of two");
    }

    /** Random byte corruption of the header: the file either opens or fails with a ModelLoadException. */
    @Test
    void randomHeaderCorruptionNeverEscapes() throws IOException {
        SplittableRandom r = new SplittableRandom(12345);
        Path p = dir.resolve("fuzz.gguf");
        int headerEnd = RawGguf.tensorInfo(valid, "tf32").offset() + 8;
        for (int i = 0; i < 1500; i++) {
            byte[] b = valid.clone();
            int flips = 1 + r.nextInt(4);
            for (int j = 0; j < flips; j++) {
                int at = 4 + r.nextInt(headerEnd - 4);
                b[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : b[at] ^ (1 << r.nextInt(8)));
            }
            Files.write(p, b);
            try (GgufFile f = GgufFile.open(p)) {
                f.tensors().values().forEach(t -> t.data().byteSize());
            } catch (ModelLoadException expected) {
                // fine
            }
        }
    }
}
