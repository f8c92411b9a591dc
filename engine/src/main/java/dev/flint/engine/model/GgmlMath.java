package dev.flint.engine.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.util.List;

/**
 * The exact arithmetic of the llama.cpp CPU kernels that attention and the activations go through (x86, AVX-512),
 * reproduced operation by operation. The reference models are chaotic on purpose, so a different summation order or
 * a 1-ulp different exponential is visible in the logits; these routines make Flint's rounding match:
 * <ul>
 * <li>{@link #expf}: ggml_v_expf, the polynomial exponential of ggml's SIMD softmax and SiLU;</li>
 * <li>{@link #dotBatch}: tinyBLAS's F16 product for prompt batches (one 16-lane FMA accumulator, then the GCC
 * lane reduction of _mm512_reduce_add_ps);</li>
 * <li>{@link #dotSingle}: ggml_vec_dot_f16 for single-token steps (four 16-lane accumulators over steps of 64,
 * folded, reduced, and the leftovers added in double).</li>
 * </ul>
 */
final class GgmlMath {
    private GgmlMath() {}

    static final VectorSpecies<Float> S16 = FloatVector.SPECIES_512;
    /**
     * Without AVX-512 the JIT cannot compile 16-lane vectors to vector instructions; there the same 16 lanes run as
     * two 8-lane halves (each lane's FMA chain is independent, so the results are the same bit for bit).
     */
    static final boolean WIDE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[16]);

    /** ggml_v_expf (AVX-512 version), lane by lane. */
    static float expf(float x) {
        float r = 0x1.8p23f;
        float z = Math.fma(x, 0x1.715476p+0f, r);
        float n = z - r;
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        if (Math.abs(n) > 192f) {
            return n <= 0f ? 0f : Float.POSITIVE_INFINITY;
        }
        float u = b * b;
        float j = Math.fma(
                Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                u,
                Math.fma(0x1.ffffecp-1f, b, 1.0f));
        return Math.scalb(j, (int) n);
    }

    /**
     * Softmax's sixteen cells s[o..o+16): each replaced by {@link #expf}(s[i] - max), returning their
     * {@link #reduce16} sum. The same operations as {@code expf} in sixteen lanes, with {@code scalb(j, n)} as one
     * multiply by 2^n, which rounds the same while 2^n is a normal float; chunks with a lane past that (an
     * exponential below 2^-126, or beyond ggml's +-192 cut-off) go lane by lane through {@code expf} instead. Scalar,
     * the exponentials took about half of attention's time at a thousand cells.
     */
    static float expSum16(float[] s, int o, float max) {
        if (!WIDE) {
            return expSum16Scalar(s, o, max);
        }
        if (!exp16(s, o, max, false, s, o)) {
            return expSum16Scalar(s, o, max);
        }
        // reduce16's tree, written out: a vector handed to a helper is boxed whenever C2 does not inline it
        FloatVector v = FloatVector.fromArray(S16, s, o);
        v = v.add(v.rearrange(XOR8));
        v = v.add(v.rearrange(XOR4));
        v = v.add(v.rearrange(XOR2));
        return v.add(v.rearrange(XOR1)).lane(0);
    }

    /**
     * {@link #expf} in sixteen lanes of x = a[ao..ao+16) - sub (or -a[..] when {@code negate}), into
     * out[oo..oo+16), with {@code scalb(j, n)} as one multiply by 2^n (the same rounding while 2^n is a normal
     * float). False, with nothing written, when a lane is past that, for the caller to take {@code expf} lane by lane.
     * Arrays in and out, not vectors: whether C2 inlines this into a caller depends on what it compiled first (the
     * caller may already be large, as attention's is), and a vector that crosses a call it does not inline is boxed;
     * with a vector result, decode steps allocated in some JVM runs and not in others (DecodeAllocationTest).
     */
    private static boolean exp16(float[] a, int ao, float sub, boolean negate, float[] out, int oo) {
        FloatVector x = FloatVector.fromArray(S16, a, ao);
        x = negate ? x.neg() : x.sub(sub);
        FloatVector n = x.fma(0x1.715476p+0f, 0x1.8p23f).sub(0x1.8p23f);
        if (n.compare(VectorOperators.LT, -126f).or(n.compare(VectorOperators.GT, 126f)).anyTrue()) {
            return false;
        }
        FloatVector negN = n.neg();
        FloatVector b = negN.fma(FloatVector.broadcast(S16, 0x1.7f7d1cp-20f),
                negN.fma(FloatVector.broadcast(S16, 0x1.62e4p-1f), x));
        FloatVector u = b.mul(b);
        FloatVector j = b.fma(0x1.0e4020p-7f, 0x1.573e2ep-5f).fma(u, b.fma(0x1.555e66p-3f, 0x1.fffdb6p-2f))
                .fma(u, b.fma(0x1.ffffecp-1f, 1.0f));
        // 2^n from its exponent bits: n is a whole number in [-126, 126] here
        FloatVector pow2 = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127)
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        j.mul(pow2).intoArray(out, oo);
        return true;
    }

    /** {@link #expSum16} lane by lane. */
    static float expSum16Scalar(float[] s, int o, float max) {
        float[] lanes = LANES.get();
        for (int k = 0; k < 16; k++) {
            float e = expf(s[o + k] - max);
            s[o + k] = e;
            lanes[k] = e;
        }
        return reduce16(lanes);
    }

    /** ggml_v_silu: x / (1 + expf(-x)). */
    static float silu(float x) {
        return x / (1f + expf(-x));
    }

    /**
     * SwiGLU, {@code up[i] *= silu(gate[i])} for i in [from, to), sixteen lanes at a time with {@link #exp16} (the
     * same operations as {@link #silu}, so the same bits). Scalar, it was the largest part of a prompt batch's
     * single-threaded work (about 10 ms per layer at 512 tokens of the 0.5B shape).
     */
    static void swiGlu(float[] up, float[] gate, int from, int to) {
        int i = from;
        if (WIDE) {
            float[] e16 = LANES.get();
            for (; i + 16 <= to; i += 16) {
                if (!exp16(gate, i, 0f, true, e16, 0)) {
                    for (int k = i; k < i + 16; k++) {
                        up[k] *= silu(gate[k]);
                    }
                } else {
                    FloatVector g = FloatVector.fromArray(S16, gate, i);
                    FloatVector e = FloatVector.fromArray(S16, e16, 0);
                    FloatVector.fromArray(S16, up, i).mul(g.div(e.add(1f))).intoArray(up, i);
                }
            }
        }
        for (; i < to; i++) {
            up[i] *= silu(gate[i]);
        }
    }

    /** _mm512_reduce_add_ps as GCC expands it: halves of 8, then of 4, then (0 + 2) + (1 + 3). */
    static float reduce16(float[] v) {
        float t0 = v[0] + v[8], t1 = v[1] + v[9], t2 = v[2] + v[10], t3 = v[3] + v[11];
        float t4 = v[4] + v[12], t5 = v[5] + v[13], t6 = v[6] + v[14], t7 = v[7] + v[15];
        float u0 = t0 + t4, u1 = t1 + t5, u2 = t2 + t6, u3 = t3 + t7;
        return (u0 + u2) + (u1 + u3);
    }

    private static final VectorShuffle<Float> XOR8 = VectorShuffle.fromOp(S16, i -> i ^ 8);
    private static final VectorShuffle<Float> XOR4 = VectorShuffle.fromOp(S16, i -> i ^ 4);
    private static final VectorShuffle<Float> XOR2 = VectorShuffle.fromOp(S16, i -> i ^ 2);
    private static final VectorShuffle<Float> XOR1 = VectorShuffle.fromOp(S16, i -> i ^ 1);

    /**
     * {@link #reduce16(float[])}'s tree on a 16-lane vector, by shuffles in registers: lanes i + 8, then i + 4, then
     * (0 + 2) + (1 + 3). Through an array it was a store, 16 loads and 15 dependent adds per dot product, which took
     * as long as the products themselves in a decode step's q·K at a thousand cells.
     */
    static float reduce16(FloatVector v) {
        v = v.add(v.rearrange(XOR8));
        v = v.add(v.rearrange(XOR4));
        v = v.add(v.rearrange(XOR2));
        return v.add(v.rearrange(XOR1)).lane(0);
    }

    /** tinyBLAS F16 dot of a[ao..ao+n) and b[bo..bo+n), n a multiple of 16. */
    static float dotBatch(float[] a, int ao, float[] b, int bo, int n) {
        return dotBatch(a, ao, b, bo, n, LANES.get());
    }

    /** {@link #dotBatch(float[], int, float[], int, int)} with the caller's 16-float scratch. */
    static float dotBatch(float[] a, int ao, float[] b, int bo, int n, float[] scratch) {
        if (!WIDE) {
            return dotBatchHalves(a, ao, b, bo, n, scratch);
        }
        FloatVector acc = FloatVector.zero(S16);
        for (int i = 0; i < n; i += 16) {
            acc = FloatVector.fromArray(S16, a, ao + i).fma(FloatVector.fromArray(S16, b, bo + i), acc);
        }
        return reduce16(acc);
    }

    /**
     * Four {@link #dotBatch}es of a[ao..ao+n) with b[bo + k * stride ..) for k = 0..3, into out[oo..oo+4): the same
     * four FMA chains and lane sums, interleaved. One chain at a time waits on each FMA's latency (attention's
     * products with a 64-float head or a few hundred cells are short chains, and took three times their share of a
     * prompt's multiply-adds); four share each load of a and keep both FMA pipes busy.
     */
    static void dotBatch4(float[] a, int ao, float[] b, int bo, int stride, int n, float[] out, int oo,
                          float[] scratch) {
        if (!WIDE) {
            for (int k = 0; k < 4; k++) {
                out[oo + k] = dotBatchHalves(a, ao, b, bo + k * stride, n, scratch);
            }
            return;
        }
        int b1 = bo + stride, b2 = b1 + stride, b3 = b2 + stride;
        FloatVector s0 = FloatVector.zero(S16), s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < n; i += 16) {
            FloatVector x = FloatVector.fromArray(S16, a, ao + i);
            s0 = x.fma(FloatVector.fromArray(S16, b, bo + i), s0);
            s1 = x.fma(FloatVector.fromArray(S16, b, b1 + i), s1);
            s2 = x.fma(FloatVector.fromArray(S16, b, b2 + i), s2);
            s3 = x.fma(FloatVector.fromArray(S16, b, b3 + i), s3);
        }
        out[oo] = reduce16(s0);
        out[oo + 1] = reduce16(s1);
        out[oo + 2] = reduce16(s2);
        out[oo + 3] = reduce16(s3);
    }

    /**
     * Sixteen {@link #dotBatch}es of a[ao..ao+n) with b[bo + k * stride ..) for k = 0..15, into out[oo..oo+16): the
     * chains eight at a time (four, as in {@link #dotBatch4}, left the FMAs waiting on each other: a prompt batch at
     * depth 2048 ran 8 % slower), and the sixteen lane sums at once by {@link #reduce16x16}.
     * {@code scratch} holds 256 floats.
     */
    static void dotBatch16(float[] a, int ao, float[] b, int bo, int stride, int n, float[] out, int oo,
                           float[] scratch) {
        if (!WIDE) {
            for (int k = 0; k < 16; k += 4) {
                dotBatch4(a, ao, b, bo + k * stride, stride, n, out, oo + k, scratch);
            }
            return;
        }
        if (n == 64) {
            batchInRegisters(a, ao, b, bo, stride, out, oo, scratch);
            return;
        }
        for (int k = 0; k < 16; k += 8) {
            int b0 = bo + k * stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
            int b4 = b3 + stride, b5 = b4 + stride, b6 = b5 + stride, b7 = b6 + stride;
            FloatVector s0 = FloatVector.zero(S16), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            for (int i = 0; i < n; i += 16) {
                FloatVector x = FloatVector.fromArray(S16, a, ao + i);
                s0 = x.fma(FloatVector.fromArray(S16, b, b0 + i), s0);
                s1 = x.fma(FloatVector.fromArray(S16, b, b1 + i), s1);
                s2 = x.fma(FloatVector.fromArray(S16, b, b2 + i), s2);
                s3 = x.fma(FloatVector.fromArray(S16, b, b3 + i), s3);
                s4 = x.fma(FloatVector.fromArray(S16, b, b4 + i), s4);
                s5 = x.fma(FloatVector.fromArray(S16, b, b5 + i), s5);
                s6 = x.fma(FloatVector.fromArray(S16, b, b6 + i), s6);
                s7 = x.fma(FloatVector.fromArray(S16, b, b7 + i), s7);
            }
            s0.intoArray(scratch, 16 * SLOT[k]);
            s1.intoArray(scratch, 16 * SLOT[k + 1]);
            s2.intoArray(scratch, 16 * SLOT[k + 2]);
            s3.intoArray(scratch, 16 * SLOT[k + 3]);
            s4.intoArray(scratch, 16 * SLOT[k + 4]);
            s5.intoArray(scratch, 16 * SLOT[k + 5]);
            s6.intoArray(scratch, 16 * SLOT[k + 6]);
            s7.intoArray(scratch, 16 * SLOT[k + 7]);
        }
        reduce16x16(scratch, out, oo);
    }

    /**
     * Sixteen {@link #dotSingle}s of a[ao..ao+n) with b[bo + k * stride ..) for k = 0..15, into out[oo..oo+16): each
     * product's four folded accumulators, then the sixteen lane sums at once by {@link #reduce16x16}, then each
     * product's leftovers in double. A decode step's q·K is one such short product per cell, and reducing each on its
     * own took longer than the multiply-adds. Heads of 64 take {@link #singleInRegisters}. {@code scratch} holds 256
     * floats.
     */
    static void dotSingle16(float[] a, int ao, float[] b, int bo, int stride, int n, float[] out, int oo,
                            float[] scratch) {
        if (!WIDE) {
            for (int k = 0; k < 16; k++) {
                out[oo + k] = dotSingleHalves(a, ao, b, bo + k * stride, n, scratch);
            }
            return;
        }
        int np = n & ~63;
        if (np == 64) {
            singleInRegisters(a, ao, b, bo, stride, out, oo, scratch);
            addLeftovers(a, ao, b, bo, stride, np, n, out, oo);
            return;
        }
        for (int k = 0; k < 16; k++) {
            int bk = bo + k * stride;
            FloatVector s0 = FloatVector.zero(S16), s1 = s0, s2 = s0, s3 = s0;
            for (int i = 0; i < np; i += 64) {
                s0 = FloatVector.fromArray(S16, a, ao + i).fma(FloatVector.fromArray(S16, b, bk + i), s0);
                s1 = FloatVector.fromArray(S16, a, ao + i + 16).fma(FloatVector.fromArray(S16, b, bk + i + 16), s1);
                s2 = FloatVector.fromArray(S16, a, ao + i + 32).fma(FloatVector.fromArray(S16, b, bk + i + 32), s2);
                s3 = FloatVector.fromArray(S16, a, ao + i + 48).fma(FloatVector.fromArray(S16, b, bk + i + 48), s3);
            }
            s0.add(s2).add(s1.add(s3)).intoArray(scratch, 16 * SLOT[k]);
        }
        reduce16x16(scratch, out, oo);
        addLeftovers(a, ao, b, bo, stride, np, n, out, oo);
    }

    /** {@link #dotSingle16}'s last step: each product's elements past the 64-float steps, added in double. */
    private static void addLeftovers(float[] a, int ao, float[] b, int bo, int stride, int np, int n, float[] out,
                                     int oo) {
        for (int k = 0; np < n && k < 16; k++) {
            int bk = bo + k * stride;
            double sum = out[oo + k];
            for (int i = np; i < n; i++) {
                sum += a[ao + i] * b[bk + i];
            }
            out[oo + k] = (float) sum;
        }
    }

    /**
     * {@link #dotSingle16} of 64 floats (a decode step's q·K with heads of 64), most of {@link #reduce16x16}'s tree
     * in registers: four products at a time (slots 4j..4j+3, see {@link #SLOT}) are paired as soon as they exist, and
     * only the four quads' vectors go through {@code scratch}, for the last two levels. A pair of x and y is
     * {@code x.blend(y, second) + y.blend(x, second).rearrange(partner)}: the same adds as x and y each added to their
     * own permute, operands swapped (which IEEE addition does not notice), with one permute instead of two. Through
     * the scratch array at every level, each level's loads waited on the stores just made: 24 layers of 14 heads over
     * 1024 cells, one thread, cache-resident keys, took 2.2-2.8 ms that way and 1.1-1.5 ms this way, same bits.
     * Written out without helpers: in a method this large C2 stops inlining them (NodeCountInliningCutoff) and
     * boxes their vectors; and vectors carried from one loop iteration to the next were boxed too.
     */
    private static void singleInRegisters(float[] a, int ao, float[] b, int bo, int stride, float[] out, int oo,
                                          float[] scratch) {
        FloatVector z = FloatVector.zero(S16);
        FloatVector q0 = FloatVector.fromArray(S16, a, ao), q1 = FloatVector.fromArray(S16, a, ao + 16);
        FloatVector q2 = FloatVector.fromArray(S16, a, ao + 32), q3 = FloatVector.fromArray(S16, a, ao + 48);
        for (int j = 0; j < 4; j++) {
            // slots 4j..4j+3 hold products k, k + 8, k + 4 and k + 12 (dotSingle's four chains of one step, folded)
            int o0 = bo + SLOT[4 * j] * stride, o1 = o0 + 8 * stride, o2 = o0 + 4 * stride, o3 = o0 + 12 * stride;
            FloatVector k0 = FloatVector.fromArray(S16, b, o0);
            FloatVector k1 = FloatVector.fromArray(S16, b, o0 + 16);
            FloatVector k2 = FloatVector.fromArray(S16, b, o0 + 32);
            FloatVector k3 = FloatVector.fromArray(S16, b, o0 + 48);
            FloatVector p0 = q0.fma(k0, z).add(q2.fma(k2, z)).add(q1.fma(k1, z).add(q3.fma(k3, z)));
            k0 = FloatVector.fromArray(S16, b, o1);
            k1 = FloatVector.fromArray(S16, b, o1 + 16);
            k2 = FloatVector.fromArray(S16, b, o1 + 32);
            k3 = FloatVector.fromArray(S16, b, o1 + 48);
            FloatVector p1 = q0.fma(k0, z).add(q2.fma(k2, z)).add(q1.fma(k1, z).add(q3.fma(k3, z)));
            k0 = FloatVector.fromArray(S16, b, o2);
            k1 = FloatVector.fromArray(S16, b, o2 + 16);
            k2 = FloatVector.fromArray(S16, b, o2 + 32);
            k3 = FloatVector.fromArray(S16, b, o2 + 48);
            FloatVector p2 = q0.fma(k0, z).add(q2.fma(k2, z)).add(q1.fma(k1, z).add(q3.fma(k3, z)));
            k0 = FloatVector.fromArray(S16, b, o3);
            k1 = FloatVector.fromArray(S16, b, o3 + 16);
            k2 = FloatVector.fromArray(S16, b, o3 + 32);
            k3 = FloatVector.fromArray(S16, b, o3 + 48);
            FloatVector p3 = q0.fma(k0, z).add(q2.fma(k2, z)).add(q1.fma(k1, z).add(q3.fma(k3, z)));
            FloatVector w0 = p0.blend(p1, SECOND8).add(p1.blend(p0, SECOND8).rearrange(XOR8));
            FloatVector w1 = p2.blend(p3, SECOND8).add(p3.blend(p2, SECOND8).rearrange(XOR8));
            w0.blend(w1, SECOND4).add(w1.blend(w0, SECOND4).rearrange(XOR4)).intoArray(scratch, 16 * j);
        }
        lastTwoLevels(scratch, out, oo);
    }

    /**
     * {@link #singleInRegisters} for {@link #dotBatch16}'s q·K: each product is dotBatch's one chain in steps of 16.
     * Prompt batches at depth 1024 (0.5B-shaped Q8_0, two threads) ran 4-10 % faster with it (alternated runs).
     * A copy of {@code singleInRegisters} with another product, not one method with a flag choosing the product per
     * pass: that version made those batches slower (faster in 3 of 12 alternated rounds, decode steps unchanged).
     */
    private static void batchInRegisters(float[] a, int ao, float[] b, int bo, int stride, float[] out, int oo,
                                          float[] scratch) {
        FloatVector z = FloatVector.zero(S16);
        FloatVector q0 = FloatVector.fromArray(S16, a, ao), q1 = FloatVector.fromArray(S16, a, ao + 16);
        FloatVector q2 = FloatVector.fromArray(S16, a, ao + 32), q3 = FloatVector.fromArray(S16, a, ao + 48);
        for (int j = 0; j < 4; j++) {
            // slots 4j..4j+3 hold products k, k + 8, k + 4 and k + 12 (dotBatch's chain)
            int o0 = bo + SLOT[4 * j] * stride, o1 = o0 + 8 * stride, o2 = o0 + 4 * stride, o3 = o0 + 12 * stride;
            FloatVector k0 = FloatVector.fromArray(S16, b, o0);
            FloatVector k1 = FloatVector.fromArray(S16, b, o0 + 16);
            FloatVector k2 = FloatVector.fromArray(S16, b, o0 + 32);
            FloatVector k3 = FloatVector.fromArray(S16, b, o0 + 48);
            FloatVector p0 = q3.fma(k3, q2.fma(k2, q1.fma(k1, q0.fma(k0, z))));
            k0 = FloatVector.fromArray(S16, b, o1);
            k1 = FloatVector.fromArray(S16, b, o1 + 16);
            k2 = FloatVector.fromArray(S16, b, o1 + 32);
            k3 = FloatVector.fromArray(S16, b, o1 + 48);
            FloatVector p1 = q3.fma(k3, q2.fma(k2, q1.fma(k1, q0.fma(k0, z))));
            k0 = FloatVector.fromArray(S16, b, o2);
            k1 = FloatVector.fromArray(S16, b, o2 + 16);
            k2 = FloatVector.fromArray(S16, b, o2 + 32);
            k3 = FloatVector.fromArray(S16, b, o2 + 48);
            FloatVector p2 = q3.fma(k3, q2.fma(k2, q1.fma(k1, q0.fma(k0, z))));
            k0 = FloatVector.fromArray(S16, b, o3);
            k1 = FloatVector.fromArray(S16, b, o3 + 16);
            k2 = FloatVector.fromArray(S16, b, o3 + 32);
            k3 = FloatVector.fromArray(S16, b, o3 + 48);
            FloatVector p3 = q3.fma(k3, q2.fma(k2, q1.fma(k1, q0.fma(k0, z))));
            FloatVector w0 = p0.blend(p1, SECOND8).add(p1.blend(p0, SECOND8).rearrange(XOR8));
            FloatVector w1 = p2.blend(p3, SECOND8).add(p3.blend(p2, SECOND8).rearrange(XOR8));
            w0.blend(w1, SECOND4).add(w1.blend(w0, SECOND4).rearrange(XOR4)).intoArray(scratch, 16 * j);
        }
        lastTwoLevels(scratch, out, oo);
    }

    /** The last two levels of {@link #reduce16x16}'s tree, from the four quads' vectors in v[0..64). */
    private static void lastTwoLevels(float[] v, float[] out, int oo) {
        FloatVector x0 = FloatVector.fromArray(S16, v, 0), x1 = FloatVector.fromArray(S16, v, 16);
        FloatVector x2 = FloatVector.fromArray(S16, v, 32), x3 = FloatVector.fromArray(S16, v, 48);
        FloatVector y0 = x0.blend(x1, SECOND2).add(x1.blend(x0, SECOND2).rearrange(XOR2));
        FloatVector y1 = x2.blend(x3, SECOND2).add(x3.blend(x2, SECOND2).rearrange(XOR2));
        y0.blend(y1, SECOND1).add(y1.blend(y0, SECOND1).rearrange(XOR1)).intoArray(out, oo);
    }

    /** Per level of {@link #reduce16x16}: the lanes a blend takes from the second vector of a pair. */
    private static final VectorMask<Float> SECOND8 = VectorMask.fromLong(S16, 0xFF00L);
    private static final VectorMask<Float> SECOND4 = VectorMask.fromLong(S16, 0xF0F0L);
    private static final VectorMask<Float> SECOND2 = VectorMask.fromLong(S16, 0xCCCCL);
    private static final VectorMask<Float> SECOND1 = VectorMask.fromLong(S16, 0xAAAAL);
    private static final List<VectorMask<Float>> TREE_SECOND = List.of(SECOND8, SECOND4, SECOND2, SECOND1);
    private static final List<VectorShuffle<Float>> TREE_PARTNER = List.of(XOR8, XOR4, XOR2, XOR1);

    /**
     * Where {@link #reduce16x16} wants product k's vector: at v[16 * SLOT[k]..). Each level interleaves its pair's
     * halves, so the sums would come out in bit-reversed order unless the vectors go in that way.
     */
    static final int[] SLOT = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};

    /**
     * {@link #reduce16(FloatVector)} of sixteen vectors at once: product k's vector at v[16 * SLOT[k]..), its sum to
     * out[oo + k]. The same adds in the same tree: each level adds every lane to its partner (i ^ 8, then i ^ 4, ^ 2,
     * ^ 1) in both vectors of a pair, after which both halves of each chunk hold the same sums, and a blend keeps one
     * half from each vector, so two vectors' sums share one vector at the next level. Fifteen such steps (two
     * single-vector permutes, two adds and a blend each) replace sixteen reductions of eight dependent steps each.
     * Works in place in {@code v}.
     */
    static void reduce16x16(float[] v, float[] out, int oo) {
        for (int level = 0, pairs = 8; level < 4; level++, pairs /= 2) {
            VectorShuffle<Float> partner = TREE_PARTNER.get(level);
            VectorMask<Float> second = TREE_SECOND.get(level);
            for (int j = 0; j < pairs; j++) {
                FloatVector x = FloatVector.fromArray(S16, v, 32 * j), y = FloatVector.fromArray(S16, v, 32 * j + 16);
                FloatVector sum = x.add(x.rearrange(partner)).blend(y.add(y.rearrange(partner)), second);
                if (pairs == 1) {
                    sum.intoArray(out, oo);
                } else {
                    sum.intoArray(v, 16 * j);
                }
            }
        }
    }

    /**
     * {@code p[j] = roundToF16(p[j] * scale)} for j in [0, n): softmax's probabilities (in [0, 1]) rounded to half
     * precision for the product with V. Normal halves (from 2^-14 on) round the float's mantissa to ten bits, to
     * nearest even, on the bits; smaller ones, a half's subnormals, are multiples of 2^-24, rounded to nearest even by
     * adding and taking away 0.5. Both are exactly {@code Float.floatToFloat16}'s rounding for values in [0, 65504].
     * Lane by lane, the conversions took about a third of a decode step's attention at a thousand cells.
     */
    static void scaleToHalf(float[] p, float scale, int n) {
        scaleToHalf(p, 0, scale, n);
    }

    /** {@link #scaleToHalf(float[], float, int)} of p[o..o+n). */
    static void scaleToHalf(float[] p, int o, float scale, int n) {
        VectorSpecies<Float> sp = FloatVector.SPECIES_PREFERRED;
        int j = 0;
        for (; j + sp.length() <= n; j += sp.length()) {
            FloatVector x = FloatVector.fromArray(sp, p, o + j).mul(scale);
            // viewAsIntegralLanes, not reinterpretAsInts: that call site is shared with the Q8_0 kernels' short and
            // long vectors, and a third class there made C2 stop inlining it in them (generation at two thirds speed)
            IntVector bits = x.viewAsIntegralLanes();
            FloatVector normal = bits.add(bits.lanewise(VectorOperators.LSHR, 13).and(1).add(0xFFF)).and(~0x1FFF)
                    .reinterpretAsFloats();
            FloatVector small = x.add(0.5f).sub(0.5f);
            small.blend(normal, x.compare(VectorOperators.GE, 0x1p-14f)).intoArray(p, o + j);
        }
        for (; j < n; j++) {
            p[o + j] = Float.float16ToFloat(Float.floatToFloat16(p[o + j] * scale));
        }
    }

    /** {@link #dotBatch} in two 8-lane halves. */
    static float dotBatchHalves(float[] a, int ao, float[] b, int bo, int n, float[] scratch) {
        FloatVector lo = FloatVector.zero(S8), hi = lo;
        for (int i = 0; i < n; i += 16) {
            lo = FloatVector.fromArray(S8, a, ao + i).fma(FloatVector.fromArray(S8, b, bo + i), lo);
            hi = FloatVector.fromArray(S8, a, ao + i + 8).fma(FloatVector.fromArray(S8, b, bo + i + 8), hi);
        }
        lo.intoArray(scratch, 0);
        hi.intoArray(scratch, 8);
        return reduce16(scratch);
    }

    /** ggml_vec_dot_f16 of a[ao..ao+n) and b[bo..bo+n). */
    static float dotSingle(float[] a, int ao, float[] b, int bo, int n) {
        return dotSingle(a, ao, b, bo, n, LANES.get());
    }

    /** {@link #dotSingle(float[], int, float[], int, int)} with the caller's 16-float scratch. */
    static float dotSingle(float[] a, int ao, float[] b, int bo, int n, float[] scratch) {
        if (!WIDE) {
            return dotSingleHalves(a, ao, b, bo, n, scratch);
        }
        int np = n & ~63;
        double sum = 0;
        if (np > 0) {
            FloatVector s0 = FloatVector.zero(S16), s1 = s0, s2 = s0, s3 = s0;
            for (int i = 0; i < np; i += 64) {
                s0 = FloatVector.fromArray(S16, a, ao + i).fma(FloatVector.fromArray(S16, b, bo + i), s0);
                s1 = FloatVector.fromArray(S16, a, ao + i + 16).fma(FloatVector.fromArray(S16, b, bo + i + 16), s1);
                s2 = FloatVector.fromArray(S16, a, ao + i + 32).fma(FloatVector.fromArray(S16, b, bo + i + 32), s2);
                s3 = FloatVector.fromArray(S16, a, ao + i + 48).fma(FloatVector.fromArray(S16, b, bo + i + 48), s3);
            }
            s0 = s0.add(s2);
            s1 = s1.add(s3);
            s0 = s0.add(s1);
            sum = reduce16(s0);
        }
        for (int i = np; i < n; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return (float) sum;
    }

    /** {@link #dotSingle} with each 16-lane accumulator in two 8-lane halves. */
    static float dotSingleHalves(float[] a, int ao, float[] b, int bo, int n, float[] scratch) {
        int np = n & ~63;
        double sum = 0;
        if (np > 0) {
            FloatVector z = FloatVector.zero(S8);
            FloatVector s0l = z, s0h = z, s1l = z, s1h = z, s2l = z, s2h = z, s3l = z, s3h = z;
            for (int i = 0; i < np; i += 64) {
                int ai = ao + i, bi = bo + i;
                s0l = FloatVector.fromArray(S8, a, ai).fma(FloatVector.fromArray(S8, b, bi), s0l);
                s0h = FloatVector.fromArray(S8, a, ai + 8).fma(FloatVector.fromArray(S8, b, bi + 8), s0h);
                s1l = FloatVector.fromArray(S8, a, ai + 16).fma(FloatVector.fromArray(S8, b, bi + 16), s1l);
                s1h = FloatVector.fromArray(S8, a, ai + 24).fma(FloatVector.fromArray(S8, b, bi + 24), s1h);
                s2l = FloatVector.fromArray(S8, a, ai + 32).fma(FloatVector.fromArray(S8, b, bi + 32), s2l);
                s2h = FloatVector.fromArray(S8, a, ai + 40).fma(FloatVector.fromArray(S8, b, bi + 40), s2h);
                s3l = FloatVector.fromArray(S8, a, ai + 48).fma(FloatVector.fromArray(S8, b, bi + 48), s3l);
                s3h = FloatVector.fromArray(S8, a, ai + 56).fma(FloatVector.fromArray(S8, b, bi + 56), s3h);
            }
            s0l.add(s2l).add(s1l.add(s3l)).intoArray(scratch, 0);
            s0h.add(s2h).add(s1h.add(s3h)).intoArray(scratch, 8);
            sum = reduce16(scratch);
        }
        for (int i = np; i < n; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return (float) sum;
    }
}
