package dev.flint.engine.tensor;

import dev.flint.engine.gguf.GgufWriter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.SplittableRandom;

/**
 * Random tensor bytes that are valid in every type: random quants, and scales written as small finite half floats
 * (so no block decodes to inf/NaN). For benchmark files and kernel benchmarks, where speed does not depend on the
 * values. Streams in 1 MiB chunks; the values are deterministic for a seed.
 */
public final class RandomWeights {
    private RandomWeights() {}

    public static GgufWriter.TensorBytes of(GgmlType type, long elements, long seed) {
        return out -> write(type, elements, new SplittableRandom(seed), out);
    }

    /** {@code elements} random elements of {@code type} as bytes (for in-memory benchmarks). */
    public static byte[] bytes(GgmlType type, long elements, long seed) {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) type.bytesFor(elements));
        try {
            write(type, elements, new SplittableRandom(seed), out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    private static void write(GgmlType type, long elements, SplittableRandom rnd, OutputStream out) throws IOException {
        long blocks = elements / type.blockSize;
        int bb = type.blockBytes;
        int perChunk = Math.max(1, (1 << 20) / bb);
        byte[] buf = new byte[perChunk * bb];
        for (long done = 0; done < blocks; ) {
            int n = (int) Math.min(perChunk, blocks - done);
            fill(type, rnd, buf, n);
            out.write(buf, 0, n * bb);
            done += n;
        }
    }

    private static void fill(GgmlType type, SplittableRandom rnd, byte[] buf, int blocks) {
        int bb = type.blockBytes;
        for (int i = 0; i < blocks * bb; i += 8) {
            long r = rnd.nextLong();
            for (int k = 0; k < 8 && i + k < blocks * bb; k++) {
                buf[i + k] = (byte) (r >>> (8 * k));
            }
        }
        for (int b = 0; b < blocks; b++) {
            int o = b * bb;
            switch (type) {
                case F32 -> putF32(buf, o, gauss(rnd) * 0.02f);
                case F16 -> putF16(buf, o, gauss(rnd) * 0.02f);
                case BF16 -> {
                    int bits = Float.floatToRawIntBits(gauss(rnd) * 0.02f);
                    buf[o] = (byte) (bits >>> 16);
                    buf[o + 1] = (byte) (bits >>> 24);
                }
                case Q4_0, Q5_0, Q8_0 -> putF16(buf, o, scale(rnd));
                case Q4_1, Q5_1, Q4_K, Q5_K -> {
                    putF16(buf, o, scale(rnd));
                    putF16(buf, o + 2, scale(rnd));
                }
                case Q6_K -> putF16(buf, o + 208, scale(rnd));
                default -> throw new IllegalArgumentException("no random generator for " + type);
            }
        }
    }

    private static float scale(SplittableRandom rnd) {
        return (float) (0.0005 + rnd.nextDouble() * 0.001);
    }

    private static float gauss(SplittableRandom rnd) {
        // sum of uniforms: cheap, bounded, close enough to normal for random weights
        return (float) ((rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() - 1.5) * 2);
    }

    private static void putF16(byte[] b, int o, float v) {
        short h = Float.floatToFloat16(v);
        b[o] = (byte) h;
        b[o + 1] = (byte) (h >>> 8);
    }

    private static void putF32(byte[] b, int o, float v) {
        int bits = Float.floatToRawIntBits(v);
        for (int k = 0; k < 4; k++) {
            b[o + k] = (byte) (bits >>> (8 * k));
        }
    }
}
