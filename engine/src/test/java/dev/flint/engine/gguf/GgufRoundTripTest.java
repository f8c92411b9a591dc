package dev.flint.engine.gguf;

import dev.flint.engine.Fixtures;
import dev.flint.engine.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Valid files: what {@link GgufWriter} writes, {@link GgufFile} reads back exactly. */
class GgufRoundTripTest {

    @TempDir
    Path dir;

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    @Test
    void everyMetadataTypeRoundTrips() throws IOException {
        Path p = dir.resolve("types.gguf");
        new GgufWriter()
                .putU8("u8", 250)
                .putI8("i8", -7)
                .putU16("u16", 65000)
                .putI16("i16", -30000)
                .putU32("u32", 4_000_000_000L)
                .putI32("i32", -2_000_000_000)
                .putU64("u64", -1L) // 2^64 - 1 reads back as the same bits
                .putI64("i64", Long.MIN_VALUE)
                .putF32("f32", 3.25f)
                .putF64("f64", Math.PI)
                .putBool("t", true)
                .putBool("f", false)
                .putString("s", "héllo ✓")
                .putString("empty", "")
                .putArray("a.u8", GgufValueType.UINT8, new int[] {0, 255})
                .putArray("a.i8", GgufValueType.INT8, new int[] {-128, 127})
                .putArray("a.u16", GgufValueType.UINT16, new int[] {0, 65535})
                .putArray("a.i16", GgufValueType.INT16, new int[] {-32768, 32767})
                .putArray("a.u32", GgufValueType.UINT32, new long[] {0, 4_294_967_295L})
                .putI32Array("a.i32", new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE})
                .putArray("a.u64", GgufValueType.UINT64, new long[] {-1L, 1})
                .putArray("a.i64", GgufValueType.INT64, new long[] {Long.MIN_VALUE, Long.MAX_VALUE})
                .putF32Array("a.f32", new float[] {1.5f, -0.0f, Float.NaN})
                .putArray("a.f64", GgufValueType.FLOAT64, new double[] {1e300, -2.5})
                .putArray("a.bool", GgufValueType.BOOL, new boolean[] {true, false, true})
                .putStringArray("a.str", new String[] {"x", "", "ünï"})
                .putArray("a.empty", GgufValueType.UINT8, new int[0])
                .putArray("a.nested", GgufValueType.ARRAY, new GgufWriter.TypedArray[] {
                        new GgufWriter.TypedArray(GgufValueType.INT32, new int[] {1, 2}),
                        new GgufWriter.TypedArray(GgufValueType.STRING, new String[] {"y"})})
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            Map<String, Object> m = f.metadata();
            assertEquals(3, f.version());
            assertEquals(250, m.get("u8"));
            assertEquals(-7, m.get("i8"));
            assertEquals(65000, m.get("u16"));
            assertEquals(-30000, m.get("i16"));
            assertEquals(4_000_000_000L, m.get("u32"));
            assertEquals(-2_000_000_000, m.get("i32"));
            assertEquals(-1L, m.get("u64"));
            assertEquals(Long.MIN_VALUE, m.get("i64"));
            assertEquals(3.25f, m.get("f32"));
            assertEquals(Math.PI, m.get("f64"));
            assertEquals(true, m.get("t"));
            assertEquals(false, m.get("f"));
            assertEquals("héllo ✓", m.get("s"));
            assertEquals("", m.get("empty"));
            assertArrayEquals(new int[] {0, 255}, (int[]) m.get("a.u8"));
            assertArrayEquals(new int[] {-128, 127}, (int[]) m.get("a.i8"));
            assertArrayEquals(new int[] {0, 65535}, (int[]) m.get("a.u16"));
            assertArrayEquals(new int[] {-32768, 32767}, (int[]) m.get("a.i16"));
            assertArrayEquals(new long[] {0, 4_294_967_295L}, (long[]) m.get("a.u32"));
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}, (int[]) m.get("a.i32"));
            assertArrayEquals(new long[] {-1L, 1}, (long[]) m.get("a.u64"));
            assertArrayEquals(new long[] {Long.MIN_VALUE, Long.MAX_VALUE}, (long[]) m.get("a.i64"));
            assertArrayEquals(new float[] {1.5f, -0.0f, Float.NaN}, (float[]) m.get("a.f32"));
            assertArrayEquals(new double[] {1e300, -2.5}, (double[]) m.get("a.f64"));
            assertArrayEquals(new boolean[] {true, false, true}, (boolean[]) m.get("a.bool"));
            assertArrayEquals(new String[] {"x", "", "ünï"}, (String[]) m.get("a.str"));
            assertArrayEquals(new int[0], (int[]) m.get("a.empty"));
            Object[] nested = assertInstanceOf(Object[].class, m.get("a.nested"));
            assertArrayEquals(new int[] {1, 2}, (int[]) nested[0]);
            assertArrayEquals(new String[] {"y"}, (String[]) nested[1]);
            // typed accessors on top
            assertEquals(4_000_000_000L, f.getLong("u32", 0));
            assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, -2.5f}, f.getFloatArray("a.f64"));
            assertEquals(28, m.size());
        }
    }

    @Test
    void tensorDataOffsetsHonourTheAlignment() throws IOException {
        for (int alignment : new int[] {0, 1, 8, 64, 4096}) {
            Path p = dir.resolve("align" + alignment + ".gguf");
            GgufWriter w = new GgufWriter().putString("general.architecture", "test");
            if (alignment > 0) {
                w.alignment(alignment);
            }
            int expected = alignment > 0 ? alignment : GgufFile.DEFAULT_ALIGNMENT;
            w.addTensor("a", GgmlType.F32, new long[] {3}, new byte[12]) // odd sizes force padding
                    .addTensor("b", GgmlType.Q8_0, new long[] {32}, new byte[34])
                    .addTensor("c", GgmlType.F16, new long[] {5, 3}, new byte[30])
                    .write(p);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(expected, f.alignment());
                assertEquals(0, f.dataOffset() % expected, "data section start");
                for (GgufTensor t : f.tensors().values()) {
                    assertEquals(0, t.fileOffset() % expected, t.name() + " with alignment " + expected);
                    assertEquals(0, t.data().address() % Math.min(expected, 4096), t.name() + " mapped address");
                }
                assertEquals(3, f.tensors().size());
            }
        }
    }

    @Test
    void tensorViewReadsBackTheExactBytes() throws IOException {
        Path p = dir.resolve("bytes.gguf");
        byte[] a = randomBytes(4 * 7 * 3, 1);
        byte[] b = randomBytes(144 * 2, 2); // Q4_K, 2 blocks
        byte[] c = randomBytes(2 * 64, 3);
        new GgufWriter()
                .addTensor("a", GgmlType.F32, new long[] {7, 3}, a)
                .addTensor("b", GgmlType.Q4_K, new long[] {256, 2}, b)
                .addTensor("c", GgmlType.BF16, new long[] {4, 4, 2, 2}, c)
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertArrayEquals(a, f.tensor("a").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(b, f.tensor("b").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(c, f.tensor("c").data().toArray(ValueLayout.JAVA_BYTE));
            GgufTensor t = f.tensor("c");
            assertEquals(GgmlType.BF16, t.type());
            assertArrayEquals(new long[] {4, 4, 2, 2}, t.shape());
            assertEquals(64, t.elementCount());
        }
    }

    @Test
    void opensTheTinyQwen2Fixture() throws IOException {
        Path model = Fixtures.model("tiny-qwen2-F16.gguf");
        try (GgufFile f = GgufFile.open(model)) {
            assertEquals("qwen2", f.requireString("general.architecture"));
            assertEquals(26, f.tensors().size());
            assertEquals(21, f.metadata().size());
            assertEquals(3, f.version());
            for (GgufTensor t : f.tensors().values()) {
                assertTrue(t.fileOffset() + t.data().byteSize() <= f.fileSize(), t.toString());
            }
        }
    }

    @Test
    void fileLargerThan2GiBWithATensorBeyond2GiB() throws IOException {
        long rel = (1L << 31) + 4096; // data-section offset of the far tensor, 32-aligned
        int n = 1024; // F32 elements
        RawGguf header = RawGguf.header(2, 1).key("general.architecture", GgufValueType.STRING).str("sparse")
                .tensor("near", GgmlType.F32.id, 0, 8)
                .tensor("far", GgmlType.F32.id, rel, n)
                .align(GgufFile.DEFAULT_ALIGNMENT);
        long dataStart = header.size();
        long size = dataStart + rel + 4L * n;
        byte[] tail = randomBytes(64, 9);
        Path p = dir.resolve("sparse.gguf");
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(size);
            raf.seek(0);
            raf.write(header.toBytes());
            raf.seek(size - tail.length);
            raf.write(tail);
        } catch (IOException e) {
            Files.deleteIfExists(p);
            assumeTrue(false, "cannot create a " + size + "-byte file here: " + e);
        }
        assumeTrue(isSparse(p, size), "the temp filesystem does not make sparse files");
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(size, f.fileSize());
            GgufTensor far = f.tensor("far");
            assertEquals(dataStart + rel, far.fileOffset());
            assertEquals(4L * n, far.data().byteSize());
            byte[] last = far.data().asSlice(far.data().byteSize() - tail.length).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(tail, last);
            assertEquals(0f, far.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0)); // a hole reads as zeros
        } finally {
            Files.deleteIfExists(p);
        }
    }

    /** True when the file occupies far less disk than its length (st_blocks), or when that cannot be asked. */
    private static boolean isSparse(Path p, long size) {
        try {
            Object blocks = Files.getAttribute(p, "unix:blocks");
            return ((Number) blocks).longValue() * 512 < size / 2;
        } catch (UnsupportedOperationException | IllegalArgumentException | IOException e) {
            return Files.isRegularFile(p);
        }
    }
}
