package dev.flint.engine.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Each type's dequantization against values computed here from the block layouts of ggml-common.h, written
 * independently of the kernels: blocks are built field by field with known scales and quants, and the expected
 * floats follow the format's definition.
 */
class DequantizationTest {
    private final SplittableRandom rnd = new SplittableRandom(1234);

    private static short h(float f) {
        return Float.floatToFloat16(f);
    }

    private static float hf(short s) {
        return Float.float16ToFloat(s);
    }

    private static float[] dequant(GgmlType t, byte[] block, int n) {
        float[] out = new float[n];
        WeightMatrix.of(t, MemorySegment.ofArray(block), 1, n).dequantizeRow(0, out, 0);
        return out;
    }

    private static void same(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], Math.ulp(expected[i]) * 2, what + " element " + i);
        }
    }

    @Test
    void q8_0IsScaleTimesSignedByte() {
        ByteBuffer b = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        short d = h(0.037f);
        b.putShort(d);
        float[] exp = new float[32];
        for (int i = 0; i < 32; i++) {
            int q = i == 0 ? -128 : i == 1 ? 127 : rnd.nextInt(-127, 128);
            b.put((byte) q);
            exp[i] = hf(d) * q;
        }
        same(exp, dequant(GgmlType.Q8_0, b.array(), 32), "Q8_0");
    }

    @Test
    void q4_0LowNibblesFirstThenHighNibblesMinusEight() {
        ByteBuffer b = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        short d = h(-0.5f);
        b.putShort(d);
        float[] exp = new float[32];
        for (int j = 0; j < 16; j++) {
            int lo = rnd.nextInt(16), hi = rnd.nextInt(16);
            b.put((byte) (lo | hi << 4));
            exp[j] = hf(d) * (lo - 8);
            exp[j + 16] = hf(d) * (hi - 8);
        }
        same(exp, dequant(GgmlType.Q4_0, b.array(), 32), "Q4_0");
    }

    @Test
    void q4_1AddsTheMinimum() {
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        short d = h(0.25f), m = h(-1.75f);
        b.putShort(d).putShort(m);
        float[] exp = new float[32];
        for (int j = 0; j < 16; j++) {
            int lo = rnd.nextInt(16), hi = rnd.nextInt(16);
            b.put((byte) (lo | hi << 4));
            exp[j] = hf(d) * lo + hf(m);
            exp[j + 16] = hf(d) * hi + hf(m);
        }
        same(exp, dequant(GgmlType.Q4_1, b.array(), 32), "Q4_1");
    }

    @Test
    void q5_0TakesBitEOfTheHighWordForElementE() {
        ByteBuffer b = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
        short d = h(0.125f);
        int qh = rnd.nextInt();
        b.putShort(d).putInt(qh);
        float[] exp = new float[32];
        for (int j = 0; j < 16; j++) {
            int lo = rnd.nextInt(16), hi = rnd.nextInt(16);
            b.put((byte) (lo | hi << 4));
            exp[j] = hf(d) * ((lo | ((qh >>> j) & 1) << 4) - 16);
            exp[j + 16] = hf(d) * ((hi | ((qh >>> (j + 16)) & 1) << 4) - 16);
        }
        same(exp, dequant(GgmlType.Q5_0, b.array(), 32), "Q5_0");
    }

    @Test
    void q5_1HasAMinimumAndNoOffset() {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        short d = h(0.0625f), m = h(0.5f);
        int qh = rnd.nextInt();
        b.putShort(d).putShort(m).putInt(qh);
        float[] exp = new float[32];
        for (int j = 0; j < 16; j++) {
            int lo = rnd.nextInt(16), hi = rnd.nextInt(16);
            b.put((byte) (lo | hi << 4));
            exp[j] = hf(d) * (lo | ((qh >>> j) & 1) << 4) + hf(m);
            exp[j + 16] = hf(d) * (hi | ((qh >>> (j + 16)) & 1) << 4) + hf(m);
        }
        same(exp, dequant(GgmlType.Q5_1, b.array(), 32), "Q5_1");
    }

    /** Packs 8 six-bit scales and mins the way ggml's K-quants store them in 12 bytes. */
    private static byte[] packScales(int[] sc, int[] mn) {
        byte[] q = new byte[12];
        for (int j = 0; j < 4; j++) {
            q[j] = (byte) ((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
            q[j + 4] = (byte) ((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
            q[j + 8] = (byte) ((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
        }
        return q;
    }

    @Test
    void q4_KUsesSixBitSubBlockScalesAndMins() {
        int[] sc = new int[8], mn = new int[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = rnd.nextInt(64);
            mn[j] = rnd.nextInt(64);
        }
        short d = h(0.01f), dmin = h(0.02f);
        ByteBuffer b = ByteBuffer.allocate(144).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(d).putShort(dmin).put(packScales(sc, mn));
        float[] exp = new float[256];
        for (int j = 0; j < 4; j++) {
            int[] lo = new int[32], hi = new int[32];
            for (int l = 0; l < 32; l++) {
                lo[l] = rnd.nextInt(16);
                hi[l] = rnd.nextInt(16);
                b.put((byte) (lo[l] | hi[l] << 4));
            }
            for (int l = 0; l < 32; l++) {
                exp[64 * j + l] = hf(d) * sc[2 * j] * lo[l] - hf(dmin) * mn[2 * j];
                exp[64 * j + 32 + l] = hf(d) * sc[2 * j + 1] * hi[l] - hf(dmin) * mn[2 * j + 1];
            }
        }
        same(exp, dequant(GgmlType.Q4_K, b.array(), 256), "Q4_K");
    }

    @Test
    void q5_KTakesItsFifthBitFromTheHighBytes() {
        int[] sc = new int[8], mn = new int[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = rnd.nextInt(64);
            mn[j] = rnd.nextInt(64);
        }
        short d = h(0.03f), dmin = h(0.01f);
        byte[] qh = new byte[32];
        for (int l = 0; l < 32; l++) {
            qh[l] = (byte) rnd.nextInt(256);
        }
        ByteBuffer b = ByteBuffer.allocate(176).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(d).putShort(dmin).put(packScales(sc, mn)).put(qh);
        float[] exp = new float[256];
        for (int j = 0; j < 4; j++) {
            for (int l = 0; l < 32; l++) {
                int lo = rnd.nextInt(16), hi = rnd.nextInt(16);
                b.put((byte) (lo | hi << 4));
                int h1 = (qh[l] >> (2 * j)) & 1, h2 = (qh[l] >> (2 * j + 1)) & 1;
                exp[64 * j + l] = hf(d) * sc[2 * j] * (lo + 16 * h1) - hf(dmin) * mn[2 * j];
                exp[64 * j + 32 + l] = hf(d) * sc[2 * j + 1] * (hi + 16 * h2) - hf(dmin) * mn[2 * j + 1];
            }
        }
        same(exp, dequant(GgmlType.Q5_K, b.array(), 256), "Q5_K");
    }

    @Test
    void q6_KCombinesFourLowAndTwoHighBitsWithSignedScales() {
        int[] q = new int[256];
        for (int i = 0; i < 256; i++) {
            q[i] = rnd.nextInt(64);
        }
        byte[] scales = new byte[16];
        for (int i = 0; i < 16; i++) {
            scales[i] = (byte) rnd.nextInt(-128, 128);
        }
        short d = h(0.004f);
        byte[] ql = new byte[128], qh = new byte[64];
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                int q1 = q[128 * half + l], q2 = q[128 * half + l + 32], q3 = q[128 * half + l + 64], q4 = q[128 * half + l + 96];
                ql[64 * half + l] = (byte) ((q1 & 0xF) | (q3 & 0xF) << 4);
                ql[64 * half + l + 32] = (byte) ((q2 & 0xF) | (q4 & 0xF) << 4);
                qh[32 * half + l] = (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        }
        ByteBuffer b = ByteBuffer.allocate(210).order(ByteOrder.LITTLE_ENDIAN);
        b.put(ql).put(qh).put(scales).putShort(d);
        float[] exp = new float[256];
        for (int i = 0; i < 256; i++) {
            exp[i] = hf(d) * scales[i / 16] * (q[i] - 32);
        }
        same(exp, dequant(GgmlType.Q6_K, b.array(), 256), "Q6_K");
    }

    @Test
    void f16AndBf16AreHalfFloats() {
        ByteBuffer f16 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = {1.5f, -2.25f, 65504f, 1e-3f};
        float[] expF16 = new float[4], expBf = new float[4];
        for (int i = 0; i < 4; i++) {
            f16.putShort(h(v[i]));
            expF16[i] = hf(h(v[i]));
            short top = (short) (Float.floatToRawIntBits(v[i]) >>> 16);
            bf.putShort(top);
            expBf[i] = Float.intBitsToFloat(top << 16);
        }
        same(expF16, dequant(GgmlType.F16, f16.array(), 4), "F16");
        same(expBf, dequant(GgmlType.BF16, bf.array(), 4), "BF16");
    }
}
