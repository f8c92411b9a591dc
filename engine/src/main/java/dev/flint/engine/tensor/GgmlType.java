package dev.flint.engine.tensor;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * ggml's tensor types: the one place where block sizes and bytes per block are written down.
 * {@code supported} marks the types Flint can compute with; the others are known so that a file using them gets a
 * message naming the type instead of a parse error.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),   // fp16 d, 16 bytes of nibbles
    Q4_1(3, 32, 20, true),   // fp16 d, fp16 m, 16 bytes of nibbles
    Q5_0(6, 32, 22, true),   // fp16 d, 4 bytes high bits, 16 bytes of nibbles
    Q5_1(7, 32, 24, true),   // fp16 d, fp16 m, 4 bytes high bits, 16 bytes of nibbles
    Q8_0(8, 32, 34, true),   // fp16 d, 32 int8
    Q8_1(9, 32, 36, false),  // fp16 d, fp16 s, 32 int8 (activations only)
    Q2_K(10, 256, 84, false),
    Q3_K(11, 256, 110, false),
    Q4_K(12, 256, 144, true), // fp16 d, fp16 dmin, 12 bytes scales, 128 bytes nibbles
    Q5_K(13, 256, 176, true), // fp16 d, fp16 dmin, 12 bytes scales, 32 bytes high bits, 128 bytes nibbles
    Q6_K(14, 256, 210, true), // 128 bytes low 4 bits, 64 bytes high 2 bits, 16 int8 scales, fp16 d
    Q8_K(15, 256, 292, false), // f32 d, 256 int8, 16 int16 block sums (activations only)
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    public final int id;
    /** Elements per block. */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;
    public final boolean supported;

    GgmlType(int id, int blockSize, int blockBytes, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.supported = supported;
    }

    /** The type with ggml id {@code id}, or null if the id is unknown. */
    public static GgmlType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    /** Bytes needed for {@code elements} elements; {@code elements} must be a multiple of the block size. */
    public long bytesFor(long elements) {
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    public static String supportedNames() {
        return Arrays.stream(values()).filter(t -> t.supported).map(Enum::name).collect(Collectors.joining(", "));
    }
}
