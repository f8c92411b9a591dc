package dev.flint.engine.gguf;

import dev.flint.engine.tensor.GgmlType;

import java.io.IOException;
import java.io.OutputStream;
import java.io.BufferedOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes GGUF v3 files: metadata with explicit value types (llama.cpp checks them: a key it reads as u32 must be
 * written as u32) and tensors whose bytes are streamed, so multi-GB files need no multi-GB buffer.
 */
public final class GgufWriter {

    /** Produces a tensor's bytes; must write exactly the tensor's byte size. */
    @FunctionalInterface
    public interface TensorBytes {
        void writeTo(OutputStream out) throws IOException;
    }

    private record Kv(String key, GgufValueType type, Object value) {}

    /** An array value with an explicit element type; {@code values} is a Java array (nested: TypedArray[]). */
    record TypedArray(GgufValueType elementType, Object values) {}

    private record TensorEntry(String name, GgmlType type, long[] shape, long bytes, TensorBytes data) {}

    private final List<Kv> kvs = new ArrayList<>();
    private final List<TensorEntry> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    private GgufWriter put(String key, GgufValueType type, Object v) {
        kvs.add(new Kv(key, type, v));
        return this;
    }

    public GgufWriter putString(String key, String v) {
        return put(key, GgufValueType.STRING, v);
    }

    public GgufWriter putU8(String key, int v) {
        return put(key, GgufValueType.UINT8, v);
    }

    public GgufWriter putI8(String key, int v) {
        return put(key, GgufValueType.INT8, v);
    }

    public GgufWriter putU16(String key, int v) {
        return put(key, GgufValueType.UINT16, v);
    }

    public GgufWriter putI16(String key, int v) {
        return put(key, GgufValueType.INT16, v);
    }

    public GgufWriter putU32(String key, long v) {
        return put(key, GgufValueType.UINT32, v);
    }

    public GgufWriter putI32(String key, int v) {
        return put(key, GgufValueType.INT32, v);
    }

    public GgufWriter putU64(String key, long v) {
        return put(key, GgufValueType.UINT64, v);
    }

    public GgufWriter putI64(String key, long v) {
        return put(key, GgufValueType.INT64, v);
    }

    public GgufWriter putF32(String key, float v) {
        return put(key, GgufValueType.FLOAT32, v);
    }

    public GgufWriter putF64(String key, double v) {
        return put(key, GgufValueType.FLOAT64, v);
    }

    public GgufWriter putBool(String key, boolean v) {
        return put(key, GgufValueType.BOOL, v);
    }

    public GgufWriter putStringArray(String key, String[] v) {
        return putArray(key, GgufValueType.STRING, v);
    }

    public GgufWriter putI32Array(String key, int[] v) {
        return putArray(key, GgufValueType.INT32, v);
    }

    public GgufWriter putF32Array(String key, float[] v) {
        return putArray(key, GgufValueType.FLOAT32, v);
    }

    /**
     * An array of any element type. {@code values} is a Java array whose elements fit the type: int[] or long[] for
     * integers, float[], double[], boolean[], String[], or {@link TypedArray}[] for nested arrays.
     */
    GgufWriter putArray(String key, GgufValueType elementType, Object values) {
        return put(key, GgufValueType.ARRAY, new TypedArray(elementType, values));
    }

    /** Copies every metadata entry of {@code src} with its original value type, except keys for which skip is true. */
    public GgufWriter copyMetadata(GgufFile src, java.util.function.Predicate<String> skip) {
        src.metadata().forEach((k, v) -> {
            if (skip.test(k)) {
                return;
            }
            switch (v) {
                case String s -> putString(k, s);
                case Boolean b -> putBool(k, b);
                case Float f -> putF32(k, f);
                case Long l -> putU32(k, l); // u32 is the only scalar type read back as Long besides 64-bit ones
                case Integer i -> putI32(k, i);
                case String[] a -> putStringArray(k, a);
                case int[] a -> putI32Array(k, a);
                case float[] a -> putF32Array(k, a);
                default -> throw new IllegalArgumentException("cannot copy metadata '" + k + "' of type "
                        + v.getClass().getSimpleName());
            }
        });
        return this;
    }

    public GgufWriter alignment(int alignment) {
        this.alignment = alignment;
        putU32("general.alignment", alignment);
        return this;
    }

    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorBytes data) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        tensors.add(new TensorEntry(name, type, shape.clone(), type.bytesFor(n), data));
        return this;
    }

    public GgufWriter addTensor(String name, GgmlType type, long[] shape, byte[] bytes) {
        return addTensor(name, type, shape, out -> out.write(bytes));
    }

    public void write(Path path) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 20)) {
            CountingOut c = new CountingOut(out);
            c.i32(GgufFile.MAGIC);
            c.i32(3);
            c.i64(tensors.size());
            c.i64(kvs.size());
            for (Kv kv : kvs) {
                c.str(kv.key);
                c.i32(kv.type.ordinal());
                c.value(kv.type, kv.value);
            }
            long offset = 0;
            for (TensorEntry t : tensors) {
                c.str(t.name);
                c.i32(t.shape.length);
                for (long d : t.shape) {
                    c.i64(d);
                }
                c.i32(t.type.id);
                c.i64(offset);
                offset = align(offset + t.bytes);
            }
            c.pad(align(c.count) - c.count);
            for (TensorEntry t : tensors) {
                long before = c.count;
                t.data.writeTo(c);
                if (c.count - before != t.bytes) {
                    throw new IllegalStateException("tensor " + t.name + " wrote " + (c.count - before)
                            + " bytes, expected " + t.bytes);
                }
                c.pad(align(c.count) - c.count);
            }
        }
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private static final class CountingOut extends OutputStream {
        private final OutputStream out;
        private final ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long count;

        CountingOut(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        void i32(int v) throws IOException {
            buf.clear();
            buf.putInt(v);
            write(buf.array(), 0, 4);
        }

        void i64(long v) throws IOException {
            buf.clear();
            buf.putLong(v);
            write(buf.array(), 0, 8);
        }

        void str(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            write(b, 0, b.length);
        }

        void pad(long n) throws IOException {
            for (long i = 0; i < n; i++) {
                write(0);
            }
        }

        void value(GgufValueType t, Object v) throws IOException {
            switch (t) {
                case STRING -> str((String) v);
                case UINT8, INT8 -> write(((Number) v).intValue());
                case UINT16, INT16 -> {
                    int x = ((Number) v).intValue();
                    write(x);
                    write(x >>> 8);
                }
                case UINT32, INT32 -> i32((int) ((Number) v).longValue());
                case UINT64, INT64 -> i64(((Number) v).longValue());
                case FLOAT32 -> i32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case FLOAT64 -> i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case BOOL -> write((Boolean) v ? 1 : 0);
                case ARRAY -> {
                    TypedArray a = (TypedArray) v;
                    int n = java.lang.reflect.Array.getLength(a.values());
                    i32(a.elementType().ordinal());
                    i64(n);
                    for (int i = 0; i < n; i++) {
                        value(a.elementType(), java.lang.reflect.Array.get(a.values(), i));
                    }
                }
            }
        }
    }
}
