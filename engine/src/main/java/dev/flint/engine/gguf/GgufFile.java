package dev.flint.engine.gguf;

import dev.flint.engine.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3), memory-mapped through the FFM API. Metadata is parsed eagerly; tensor data stays
 * in the mapping, so opening a multi-GB file costs only the header. Every size and offset read from the file is
 * checked against the file's length before use, so a malformed file fails with a {@link GgufFormatException} and
 * never with a huge allocation or a crash.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    public static final int DEFAULT_ALIGNMENT = 32;
    /** No real model has more; a larger count can only come from a corrupt header. */
    static final long MAX_TENSORS = 1 << 20;
    static final int MAX_DIMS = 4;

    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;
    /** The mapping itself ({@code segment} is a plain view of it), for {@link #releasePages}. */
    private final MemorySegment mapping;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufTensor> tensors;
    private final long dataOffset;
    private final int alignment;

    private GgufFile(Path path, Arena arena, MemorySegment segment, MemorySegment mapping) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
        this.mapping = mapping;
        GgufReader in = new GgufReader(segment);
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw new GgufFormatException(String.format(
                    "%s is not a GGUF file (magic 0x%08x, expected 'GGUF')", path, magic));
        }
        version = in.i32("version");
        if (version == 1) {
            throw new GgufFormatException(path + " is GGUF version 1, which is obsolete; re-convert it with a current "
                    + "llama.cpp (versions 2 and 3 are supported)");
        }
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw new GgufFormatException(path + " is a big-endian GGUF file; only little-endian files are supported");
            }
            throw new GgufFormatException(path + " has unsupported GGUF version " + Integer.toUnsignedString(version)
                    + " (versions 2 and 3 are supported)");
        }
        long tensorCount = in.u64("tensor count");
        long kvCount = in.u64("metadata count");
        if (tensorCount < 0 || tensorCount > MAX_TENSORS || tensorCount * 24 > in.remaining()) {
            throw new GgufFormatException(path + ": tensor count " + Long.toUnsignedString(tensorCount)
                    + " is impossible for a file of " + segment.byteSize() + " bytes; the file is truncated or corrupt");
        }
        // each key/value pair needs at least 8 (key length) + 4 (type) + 1 bytes
        // (divide rather than multiply: a huge count times 13 can wrap around to a small number)
        if (kvCount < 0 || kvCount > in.remaining() / 13) {
            throw new GgufFormatException(path + ": metadata count " + Long.toUnsignedString(kvCount)
                    + " is impossible for a file of " + segment.byteSize() + " bytes; the file is truncated or corrupt");
        }
        Map<String, Object> md = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("metadata key #" + i);
            int typeId = in.i32("type of " + key);
            if (md.put(key, in.value(typeId, key)) != null) {
                throw new GgufFormatException(path + ": metadata key '" + key + "' appears twice");
            }
        }
        metadata = Collections.unmodifiableMap(md);

        Object align = md.get("general.alignment");
        if (align != null && !(align instanceof Integer || align instanceof Long)) {
            throw new GgufFormatException(path + ": general.alignment should be an integer but is "
                    + align.getClass().getSimpleName() + " " + align);
        }
        long alignValue = align == null ? DEFAULT_ALIGNMENT : ((Number) align).longValue();
        // range-check before narrowing: a 64-bit value must not be truncated into a plausible one
        if (alignValue <= 0 || alignValue > 1 << 30 || Long.bitCount(alignValue) != 1) {
            throw new GgufFormatException(path + ": general.alignment " + Long.toUnsignedString(alignValue)
                    + " is not a power of two (at most 2^30)");
        }
        alignment = (int) alignValue;

        record Info(String name, GgmlType type, long[] shape, long relOffset) {}
        Info[] infos = new Info[(int) tensorCount];
        for (int i = 0; i < tensorCount; i++) {
            String name = in.string("tensor name #" + i);
            int nDims = in.i32("rank of tensor " + name);
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GgufFormatException(path + ": tensor '" + name + "' has " + nDims
                        + " dimensions (1 to " + MAX_DIMS + " allowed)");
            }
            long[] shape = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                shape[d] = in.u64("dimension " + d + " of tensor " + name);
                if (shape[d] <= 0 || shape[d] > segment.byteSize() * 2) {
                    throw new GgufFormatException(path + ": tensor '" + name + "' has impossible dimension "
                            + Long.toUnsignedString(shape[d]));
                }
            }
            int typeId = in.i32("type of tensor " + name);
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw new GgufFormatException(path + ": tensor '" + name + "' has unknown ggml type id " + typeId
                        + "; this file needs a newer reader than Flint's (supported: " + GgmlType.supportedNames() + ")");
            }
            long offset = in.u64("offset of tensor " + name);
            infos[i] = new Info(name, type, shape, offset);
        }
        long afterHeader = in.position();
        dataOffset = (afterHeader + alignment - 1) / alignment * alignment;

        Map<String, GgufTensor> ts = new LinkedHashMap<>();
        for (Info info : infos) {
            long elements = 1;
            for (long d : info.shape) {
                try {
                    elements = Math.multiplyExact(elements, d);
                } catch (ArithmeticException e) {
                    throw new GgufFormatException(path + ": tensor '" + info.name + "' has too many elements");
                }
            }
            if (info.shape[0] % info.type.blockSize != 0) {
                throw new GgufFormatException(path + ": tensor '" + info.name + "' of type " + info.type
                        + " has row length " + info.shape[0] + ", not a multiple of the block size " + info.type.blockSize);
            }
            long bytes;
            try {
                bytes = info.type.bytesFor(elements);
            } catch (ArithmeticException e) {
                throw new GgufFormatException(path + ": tensor '" + info.name + "' has too many bytes ("
                        + elements + " elements of " + info.type + ")");
            }
            long start = dataOffset + info.relOffset;
            if (info.relOffset < 0 || start < dataOffset || start > segment.byteSize()
                    || bytes > segment.byteSize() - start) {
                throw new GgufFormatException(path + ": tensor '" + info.name + "' (" + bytes + " bytes at offset "
                        + Long.toUnsignedString(info.relOffset) + ") lies past the end of the file ("
                        + segment.byteSize() + " bytes); the file is truncated or corrupt");
            }
            if (info.relOffset % alignment != 0) {
                throw new GgufFormatException(path + ": tensor '" + info.name + "' has data offset " + info.relOffset
                        + ", not a multiple of " + alignment + " (general.alignment)");
            }
            if (ts.put(info.name, new GgufTensor(info.name, info.type, info.shape, start,
                    segment.asSlice(start, bytes))) != null) {
                throw new GgufFormatException(path + ": tensor '" + info.name + "' appears twice");
            }
        }
        tensors = Collections.unmodifiableMap(ts);
    }

    /** Maps and parses {@code path}. The mapping lives until {@link #close()}. */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 24) {
                throw new GgufFormatException(path + " is too short to be a GGUF file (" + size + " bytes)");
            }
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            // The same bytes as a plain native segment, bound to the mapping's arena: the kernels then see one
            // segment class for mapped weights and repacked native copies alike. With two, the JIT's type profiles
            // inside the JDK's vector loads were shared and bimorphic, and Q4_0 generation measured 36-44 tok/s
            // against 53-56 with one class (2 threads, same runs alternated).
            MemorySegment seg = MemorySegment.ofAddress(mapped.address()).reinterpret(size, arena, null).asReadOnly();
            try {
                return new GgufFile(path, arena, seg, mapped);
            } catch (GgufFormatException e) {
                // the cursor's messages do not know the file: name it
                if (e.getMessage().startsWith(path.toString())) {
                    throw e;
                }
                throw new GgufFormatException(path + ": " + e.getMessage());
            }
        } catch (NoSuchFileException e) {
            arena.close();
            throw new NoSuchFileException(path.toString(), null, "model file not found");
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public long fileSize() {
        return segment.byteSize();
    }

    public int alignment() {
        return alignment;
    }

    public long dataOffset() {
        return dataOffset;
    }

    /** All metadata, in file order. Arrays are Java arrays: int[], long[], float[], double[], boolean[], String[]. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public Map<String, GgufTensor> tensors() {
        return tensors;
    }

    public GgufTensor tensor(String name) {
        return tensors.get(name);
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public String getString(String key, String fallback) {
        Object v = metadata.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof String s) {
            return s;
        }
        throw typeError(key, "a string", v);
    }

    public String requireString(String key) {
        String s = getString(key, null);
        if (s == null) {
            throw new GgufFormatException(path + ": required metadata '" + key + "' is missing");
        }
        return s;
    }

    public long getLong(String key, long fallback) {
        Object v = metadata.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n.longValue();
        }
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        throw typeError(key, "a number", v);
    }

    public int getInt(String key, int fallback) {
        long v = getLong(key, fallback);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new GgufFormatException(path + ": metadata '" + key + "' = " + v + " is out of range");
        }
        return (int) v;
    }

    public int requireInt(String key) {
        if (!metadata.containsKey(key)) {
            throw new GgufFormatException(path + ": required metadata '" + key + "' is missing");
        }
        return getInt(key, 0);
    }

    public float getFloat(String key, float fallback) {
        Object v = metadata.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n.floatValue();
        }
        throw typeError(key, "a number", v);
    }

    public boolean getBoolean(String key, boolean fallback) {
        Object v = metadata.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n) {
            return n.longValue() != 0;
        }
        throw typeError(key, "a boolean", v);
    }

    public String[] getStringArray(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof String[] a) {
            return a;
        }
        throw typeError(key, "an array of strings", v);
    }

    /** A numeric array as int[] (values outside int range are an error). */
    public int[] getIntArray(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof int[] a) {
            return a;
        }
        if (v instanceof long[] a) {
            int[] r = new int[a.length];
            for (int i = 0; i < a.length; i++) {
                r[i] = Math.toIntExact(a[i]);
            }
            return r;
        }
        throw typeError(key, "an array of integers", v);
    }

    public float[] getFloatArray(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof float[] a) {
            return a;
        }
        if (v instanceof double[] a) {
            float[] r = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                r[i] = (float) a[i];
            }
            return r;
        }
        if (v instanceof int[] a) {
            float[] r = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                r[i] = a[i];
            }
            return r;
        }
        throw typeError(key, "an array of numbers", v);
    }

    private GgufFormatException typeError(String key, String expected, Object v) {
        return new GgufFormatException(path + ": metadata '" + key + "' should be " + expected + " but is "
                + v.getClass().getSimpleName());
    }

    /**
     * Drops this process's resident pages of {@code view} (a tensor's data, or part of it) from the mapping
     * ({@code madvise(MADV_DONTNEED)} through {@link MemorySegment#unload()}), for tensors whose products read a
     * repacked copy: the pages were read once, at load, and would otherwise count twice in the process's memory
     * until the kernel needs them back. The bytes stay readable; a later read faults its page in again (from the
     * page cache, usually). Pages shared with neighbouring tensors go too and come back the same way.
     */
    public void releasePages(MemorySegment view) {
        long offset = view.address() - segment.address();
        if (offset < 0 || offset + view.byteSize() > segment.byteSize() || view.byteSize() == 0) {
            return;
        }
        mapping.asSlice(offset, view.byteSize()).unload();
    }

    /** Unmaps the file. Tensor views must not be used afterwards (access then fails with IllegalStateException). */
    @Override
    public void close() {
        arena.close();
    }
}
