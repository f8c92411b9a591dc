package dev.flint.engine.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Byte-level GGUF builder for tests: writes whatever fields it is told to, valid or not, little-endian. Also holds
 * helpers to patch fields of an existing file image.
 */
final class RawGguf {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Magic, version 3 and the two counts. */
    static RawGguf header(long tensorCount, long kvCount) {
        return new RawGguf().bytes("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(3).u64(tensorCount).u64(kvCount);
    }

    RawGguf bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    RawGguf u8(int v) {
        out.write(v);
        return this;
    }

    RawGguf u32(long v) {
        return bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }

    RawGguf u64(long v) {
        return bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    RawGguf str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).bytes(b);
    }

    /** A key followed by its value type id; the caller writes the value. */
    RawGguf key(String key, GgufValueType type) {
        return str(key).u32(type.ordinal());
    }

    /** A tensor info entry. */
    RawGguf tensor(String name, int typeId, long offset, long... shape) {
        str(name).u32(shape.length);
        for (long d : shape) {
            u64(d);
        }
        return u32(typeId).u64(offset);
    }

    RawGguf zeros(int n) {
        return bytes(new byte[n]);
    }

    /** Pads with zeros to a multiple of {@code alignment}. */
    RawGguf align(int alignment) {
        int pad = (alignment - out.size() % alignment) % alignment;
        return zeros(pad);
    }

    int size() {
        return out.size();
    }

    byte[] toBytes() {
        return out.toByteArray();
    }

    Path write(Path path) throws IOException {
        Files.write(path, out.toByteArray());
        return path;
    }

    // ---- patching an existing image ----

    static void putU32(byte[] file, int at, long v) {
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) v);
    }

    static void putU64(byte[] file, int at, long v) {
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
    }

    /** Offset just after the first length-prefixed occurrence of {@code s} in {@code file}. */
    static int after(byte[] file, String s) {
        byte[] needle = new RawGguf().str(s).toBytes();
        outer:
        for (int i = 0; i + needle.length <= file.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (file[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i + needle.length;
        }
        throw new IllegalArgumentException("'" + s + "' not found");
    }

    /** Field offsets of the tensor info entry named {@code name} in a file image. */
    record TensorInfo(int nDims, int dims, int type, int offset) {}

    static TensorInfo tensorInfo(byte[] file, String name) {
        int nDimsAt = after(file, name);
        int n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getInt(nDimsAt);
        int dimsAt = nDimsAt + 4;
        int typeAt = dimsAt + 8 * n;
        return new TensorInfo(nDimsAt, dimsAt, typeAt, typeAt + 4);
    }
}
