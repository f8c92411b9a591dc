package dev.flint.engine.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** A bounds-checked little-endian cursor over the GGUF header. Every read names what it reads for error messages. */
final class GgufReader {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Nested arrays deeper than this are not produced by any writer and would only exhaust the stack. */
    private static final int MAX_ARRAY_DEPTH = 4;

    private final MemorySegment seg;
    private long pos;

    GgufReader(MemorySegment seg) {
        this.seg = seg;
    }

    long position() {
        return pos;
    }

    long remaining() {
        return seg.byteSize() - pos;
    }

    private void need(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw new GgufFormatException("GGUF file is truncated or corrupt: reading " + what + " at offset " + pos
                    + " needs " + Long.toUnsignedString(n) + " bytes but only " + remaining() + " remain");
        }
    }

    int i32(String what) {
        need(4, what);
        int v = seg.get(I32, pos);
        pos += 4;
        return v;
    }

    long u64(String what) {
        need(8, what);
        long v = seg.get(I64, pos);
        pos += 8;
        return v;
    }

    String string(String what) {
        long len = u64("length of " + what);
        need(len, what);
        if (len > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException("GGUF " + what + " at offset " + pos + " is " + len
                    + " bytes long, too long for a string");
        }
        byte[] bytes = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        pos += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    Object value(int typeId, String key) {
        return value(typeId, key, 0);
    }

    private Object value(int typeId, String key, int depth) {
        GgufValueType type = GgufValueType.byId(typeId);
        if (type == null) {
            throw new GgufFormatException("GGUF metadata '" + key + "' has unknown value type " + typeId);
        }
        switch (type) {
            case STRING:
                return string("value of " + key);
            case ARRAY:
                return array(key, depth);
            default:
                need(type.size, "value of " + key);
                Object v = scalar(type, pos);
                pos += type.size;
                return v;
        }
    }

    private Object scalar(GgufValueType type, long at) {
        return switch (type) {
            case UINT8 -> seg.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
            case INT8 -> (int) seg.get(ValueLayout.JAVA_BYTE, at);
            case UINT16 -> seg.get(I16, at) & 0xFFFF;
            case INT16 -> (int) seg.get(I16, at);
            case UINT32 -> seg.get(I32, at) & 0xFFFFFFFFL;
            case INT32 -> seg.get(I32, at);
            case FLOAT32 -> seg.get(F32, at);
            case BOOL -> seg.get(ValueLayout.JAVA_BYTE, at) != 0;
            case UINT64, INT64 -> seg.get(I64, at);
            case FLOAT64 -> seg.get(F64, at);
            default -> throw new IllegalStateException(type.name());
        };
    }

    private Object array(String key, int depth) {
        if (depth >= MAX_ARRAY_DEPTH) {
            throw new GgufFormatException("GGUF metadata '" + key + "' nests arrays deeper than " + MAX_ARRAY_DEPTH);
        }
        int elemTypeId = i32("element type of " + key);
        GgufValueType et = GgufValueType.byId(elemTypeId);
        if (et == null) {
            throw new GgufFormatException("GGUF metadata '" + key + "' is an array of unknown type " + elemTypeId);
        }
        long n = u64("length of " + key);
        // strings take at least 8 bytes each, arrays at least 12: a count that cannot fit is corruption
        long minSize = et.size > 0 ? et.size : et == GgufValueType.STRING ? 8 : 12;
        if (n < 0 || n > remaining() / minSize || n > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException("GGUF metadata '" + key + "' claims " + Long.toUnsignedString(n)
                    + " elements, more than the file can hold; the file is truncated or corrupt");
        }
        int count = (int) n;
        switch (et) {
            case STRING: {
                String[] a = new String[count];
                for (int i = 0; i < count; i++) {
                    a[i] = string(key + "[" + i + "]");
                }
                return a;
            }
            case ARRAY: {
                Object[] a = new Object[count];
                for (int i = 0; i < count; i++) {
                    a[i] = array(key + "[" + i + "]", depth + 1);
                }
                return a;
            }
            case FLOAT32: {
                float[] a = new float[count];
                for (int i = 0; i < count; i++, pos += 4) {
                    a[i] = seg.get(F32, pos);
                }
                return a;
            }
            case FLOAT64: {
                double[] a = new double[count];
                for (int i = 0; i < count; i++, pos += 8) {
                    a[i] = seg.get(F64, pos);
                }
                return a;
            }
            case BOOL: {
                boolean[] a = new boolean[count];
                for (int i = 0; i < count; i++, pos++) {
                    a[i] = seg.get(ValueLayout.JAVA_BYTE, pos) != 0;
                }
                return a;
            }
            case UINT32, UINT64, INT64: {
                long[] a = new long[count];
                for (int i = 0; i < count; i++, pos += et.size) {
                    a[i] = ((Number) scalar(et, pos)).longValue();
                }
                return a;
            }
            default: {
                int[] a = new int[count];
                for (int i = 0; i < count; i++, pos += et.size) {
                    a[i] = ((Number) scalar(et, pos)).intValue();
                }
                return a;
            }
        }
    }
}
