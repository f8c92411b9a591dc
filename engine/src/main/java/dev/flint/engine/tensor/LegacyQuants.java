package dev.flint.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.flint.engine.tensor.Kernels.INT;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * ggml's original block types, 32 values per block with an fp16 scale. Nibble layout (Q4/Q5): byte j of the 16 holds
 * element j in its low nibble and element j + 16 in its high nibble; Q5's u32 of high bits gives element e bit e.
 */
final class LegacyQuants {
    private LegacyQuants() {}

    /**
     * Q8_0: fp16 d, 32 int8; value = d * q.
     *
     * <p>The products are llama.cpp's (x86, AVX-512 build): ggml_vec_dot_q8_0_q8_0 for single tokens and tinyBLAS_Q0_AVX
     * (llamafile sgemm) for batches perform the same float operations. Per block of 32, eight exact integer sums of
     * four neighbouring products (lane i: elements 4i..4i+3), converted to float, are added into eight float lanes
     * with {@code acc = fma(d_w * d_x, isum, acc)}; at the end the lanes are summed as hsum_float_8 does:
     * {@code ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))}. All kernels below compute exactly that. The fast ones
     * have fixed vector shapes (256 and 512 bits); without AVX-512, {@link #portableDot} and {@link #tile4Half} run
     * instead.
     */
    static final class Q8_0 extends QuantizedMatrix {
        private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
        private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
        private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
        private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
        private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
        private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
        private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
        /** Rows per batch tile: each loaded activation vector feeds this many rows. */
        private static final int TILE_ROWS = 4;
        /**
         * The kernels below use 512-bit shorts and floats; without AVX-512 the JIT cannot compile them to vector
         * instructions (and runs them orders of magnitude slower), so other machines take {@link #portableDot}.
         */
        static final boolean WIDE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
        private static final VectorShuffle<Float> PAIR = VectorShuffle.fromOp(Kernels.F, i -> i ^ 1);
        private static final VectorShuffle<Float> QUAD = VectorShuffle.fromOp(Kernels.F, i -> i ^ 2);
        /**
         * Large batches run in chunks of token pairs whose activation planes take about this many bytes, so that they
         * stay in a 1 MiB L2 cache while every row tile of the range passes over them (rows are decoded again for
         * each chunk, which costs less than streaming all the planes from L3 for every tile): at 512 tokens, one
         * thread, 896 x 4864 went from about 100-117 to 77 ms, 4864 x 896 from 91-93 to 72-80.
         */
        private static final int CHUNK_BYTES = 512 * 1024;

        private final int blocks;
        /**
         * Per thread: TILE_ROWS rows as doubled planes (2 * cols floats each), their scales, lane-sum scratch, and 16
         * rows' single-token accumulators for each of two tokens.
         */
        private final ThreadLocal<float[][]> tile;

        /** Whether this matrix runs the 512-bit kernels ({@link #WIDE}; tests also build the other kind). */
        private final boolean wide;
        /**
         * With the 512-bit kernels: rows [0, 16 * groups) repacked in groups of 16 rows ({@link RowGroups}: per block
         * the 16 fp16 scales, then bytes j and j + 1 of the 16 rows side by side), or null (no whole group, or a scale
         * that is infinite or NaN). Every product of those rows reads them from here, so the mapped bytes of a
         * repacked matrix are read once, at load.
         */
        private final MemorySegment packed;
        private final int groups;
        private static final long GROUP_BLOCK = RowGroups.blockBytes(1, 32);

        Q8_0(MemorySegment data, int rows, int cols, boolean repack) {
            this(data, rows, cols, WIDE, repack);
        }

        Q8_0(MemorySegment data, int rows, int cols, boolean wide, boolean repack) {
            super(GgmlType.Q8_0, data, rows, cols, 32, false);
            this.wide = wide;
            this.blocks = cols / 32;
            this.packed = repack && wide && L == 16 ? RowGroups.interleave(data, rows, blocks, 1, 0, 32, null) : null;
            this.groups = RowGroups.groups(packed, rows);
            this.tile = ThreadLocal.withInitial(() -> {
                float[][] t = new float[2 * TILE_ROWS + 3][];
                for (int k = 0; k < TILE_ROWS; k++) {
                    t[k] = new float[2 * cols];
                    t[TILE_ROWS + k] = new float[blocks];
                }
                t[2 * TILE_ROWS] = new float[32 * TILE_ROWS];
                t[2 * TILE_ROWS + 1] = new float[16 * 16];
                t[2 * TILE_ROWS + 2] = new float[16 * 16];
                return t;
            });
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.Q8_0;
        }

        @Override
        public boolean repacked() {
            return packed != null;
        }

        @Override
        public float dot(int row, Activations x, int token) {
            return fusedDot(row, x, token, tile.get()[2 * TILE_ROWS]);
        }

        /**
         * Row {@code row} times token {@code t}, straight from the mapped bytes: the 32 weights of a block are
         * widened to shorts and multiplied with the activation integers (exact in 16 bits); neighbouring products
         * are added in pairs within int lanes, then pairs of pairs within long lanes (exact), giving the eight sums
         * of four as ggml's 8 x int32 dot product does; llama.cpp's lane k is lane 2k + 1 here.
         */
        private float fusedDot(int row, Activations x, int t, float[] lanes) {
            if (!wide) {
                return portableDot(row, x, t, tile.get()[2 * TILE_ROWS]);
            }
            wideAccumulator(row, x, t, lanes, 0);
            return ((lanes[1] + lanes[9]) + (lanes[5] + lanes[13])) + ((lanes[3] + lanes[11]) + (lanes[7] + lanes[15]));
        }

        /** {@link #fusedDot}'s 512-bit accumulator before its lane sum, to {@code into[o .. o + 16)}. */
        private void wideAccumulator(int row, Activations x, int t, float[] into, int o) {
            long base = row * rowBytes;
            short[] xq = x.q16();
            float[] xd = x.d;
            int xo = t * cols;
            int go = t * blocks;
            FloatVector acc = FloatVector.zero(F512);
            for (int b = 0; b < blocks; b++) {
                long p = base + b * 34L;
                ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B256, data, p + 2, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                IntVector pairs = w.mul(ShortVector.fromArray(S512, xq, xo + 32 * b)).reinterpretAsInts();
                pairs = pairs.add(pairs.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                LongVector quads = pairs.reinterpretAsLongs();
                // the high int of each long becomes pair 2k + pair 2k+1: odd int lanes hold the eight sums of four
                // (even lanes carry a pair along, unused). All in 512-bit floats: a 256-bit accumulator here made
                // the JIT box it after prompt batches (its store at the end went through a polluted type profile)
                FloatVector isum = (FloatVector) quads.add(quads.lanewise(VectorOperators.LSHL, 32))
                        .reinterpretAsInts().convert(VectorOperators.I2F, 0);
                acc = isum.fma(FloatVector.broadcast(F512, Kernels.f16(data, p) * xd[go + b]), acc);
            }
            acc.intoArray(into, o);
        }

        /**
         * {@link #wideAccumulator} for tokens t and t + 1 at once: each block's weights are widened and its scale
         * converted once for both (the same operations per token).
         */
        private void wideAccumulator2(int row, Activations x, int t, float[] into, float[] into2, int o) {
            long base = row * rowBytes;
            short[] xq = x.q16();
            float[] xd = x.d;
            int xo = t * cols;
            int xo2 = xo + cols;
            int go = t * blocks;
            int go2 = go + blocks;
            FloatVector acc = FloatVector.zero(F512);
            FloatVector acc2 = acc;
            for (int b = 0; b < blocks; b++) {
                long p = base + b * 34L;
                ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B256, data, p + 2, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                float dw = Kernels.f16(data, p);
                IntVector pairs = w.mul(ShortVector.fromArray(S512, xq, xo + 32 * b)).reinterpretAsInts();
                IntVector pairs2 = w.mul(ShortVector.fromArray(S512, xq, xo2 + 32 * b)).reinterpretAsInts();
                pairs = pairs.add(pairs.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                pairs2 = pairs2.add(pairs2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                LongVector quads = pairs.reinterpretAsLongs();
                LongVector quads2 = pairs2.reinterpretAsLongs();
                FloatVector isum = (FloatVector) quads.add(quads.lanewise(VectorOperators.LSHL, 32))
                        .reinterpretAsInts().convert(VectorOperators.I2F, 0);
                FloatVector isum2 = (FloatVector) quads2.add(quads2.lanewise(VectorOperators.LSHL, 32))
                        .reinterpretAsInts().convert(VectorOperators.I2F, 0);
                acc = isum.fma(FloatVector.broadcast(F512, dw * xd[go + b]), acc);
                acc2 = isum2.fma(FloatVector.broadcast(F512, dw * xd[go2 + b]), acc2);
            }
            acc.intoArray(into, o);
            acc2.intoArray(into2, o);
        }

        /**
         * Repacked group g's 16 rows times token t into {@code out[o .. o + 16)}, one row per lane, with llama.cpp's
         * operations per row: per block and lane i of its eight (elements 4i..4i+3), the exact integer sum of four
         * products, then {@code acc_i = fma(isum, d_w * d_x, acc_i)}; hsum_float_8's tree over the eight at the end.
         * One load gives bytes j and j + 1 of the 16 rows (row k's pair in 32-bit lane k once widened to shorts),
         * multiplied by the activation pair broadcast into every lane; the products of elements 4i, 4i + 2 and of
         * 4i + 1, 4i + 3 are added as shorts (at most 2 * 128 * 127 = 32512 in magnitude: the activations never
         * hold -128), and the two halves of each lane as ints. About half the instructions per weight of
         * {@link #wideAccumulator}, which needs its pair and quad sums across lanes.
         *
         * <p>Written out, helpers included: the eight accumulators stay in registers (kept in an array, they made
         * it 1.3 times slower), and a vector helper left out of line here boxed every vector. The method must stay
         * about this size: a two-token form of twice the length was too large for C1 ("out of virtual registers"),
         * was never compiled by C2 and ran boxed at a hundredth of the speed (split in two passes it compiled, but
         * ran no faster per token than this, so batches call this per token).
         */
        private void groupDot(int g, Activations x, int t, float[] out, int o) {
            int[] xp = x.pairs16();
            float[] xd = x.d;
            int xo = t * (cols / 2);
            int go = t * blocks;
            long base = (long) g * blocks * GROUP_BLOCK;
            FloatVector a0 = FloatVector.zero(F512), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int b = 0; b < blocks; b++) {
                long p = base + b * GROUP_BLOCK;
                long q = p + 32;
                int xb = xo + 16 * b; // pair index of the block's element 0
                IntVector h = (IntVector) ShortVector.fromMemorySegment(S256, packed, p, Kernels.LE)
                        .convertShape(VectorOperators.S2I, I512, 0); // fp16 scales, sign-extended
                FloatVector d = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats()
                        .mul(RowGroups.F16_EXPONENT_SHIFT).mul(xd[go + b]);
                IntVector v; // per lane i: ab = bytes of elements 4i, 4i + 1, cd = of 4i + 2, 4i + 3
                ShortVector ab0 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                ShortVector cd0 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 32, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                v = ab0.mul(IntVector.broadcast(I512, xp[xb]).reinterpretAsShorts())
                        .add(cd0.mul(IntVector.broadcast(I512, xp[xb + 1]).reinterpretAsShorts())).reinterpretAsInts();
                a0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)).fma(d, a0);
                ShortVector ab1 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 64, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                ShortVector cd1 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 96, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                v = ab1.mul(IntVector.broadcast(I512, xp[xb + 2]).reinterpretAsShorts())
                        .add(cd1.mul(IntVector.broadcast(I512, xp[xb + 3]).reinterpretAsShorts())).reinterpretAsInts();
                a1 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)).fma(d, a1);
                ShortVector ab2 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 128, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                ShortVector cd2 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 160, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                v = ab2.mul(IntVector.broadcast(I512, xp[xb + 4]).reinterpretAsShorts())
                        .add(cd2.mul(IntVector.broadcast(I512, xp[xb + 5]).reinterpretAsShorts())).reinterpretAsInts();
                a2 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)).fma(d, a2);
                ShortVector ab3 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 192, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                ShortVector cd3 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 224, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                v = ab3.mul(IntVector.broadcast(I512, xp[xb + 6]).reinterpretAsShorts())
                        .add(cd3.mul(IntVector.broadcast(I512, xp[xb + 7]).reinterpretAsShorts())).reinterpretAsInts();
                a3 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)).fma(d, a3);
                ShortVector ab4 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 256, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                ShortVector cd4 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 288, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                v = ab4.mul(IntVector.broadcast(I512, xp[xb + 8]).reinterpretAsShorts())
                        .add(cd4.mul(IntVector.broadcast(I512, xp[xb + 9]).reinterpretAsShorts())).reinterpretAsInts();
                a4 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)).fma(d, a4);
                ShortVector ab5 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 320, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                ShortVector cd5 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 352, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                v = ab5.mul(IntVector.broadcast(I512, xp[xb + 10]).reinterpretAsShorts())
                        .add(cd5.mul(IntVector.broadcast(I512, xp[xb + 11]).reinterpretAsShorts())).reinterpretAsInts();
                a5 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)).fma(d, a5);
                ShortVector ab6 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 384, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                ShortVector cd6 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 416, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                v = ab6.mul(IntVector.broadcast(I512, xp[xb + 12]).reinterpretAsShorts())
                        .add(cd6.mul(IntVector.broadcast(I512, xp[xb + 13]).reinterpretAsShorts())).reinterpretAsInts();
                a6 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)).fma(d, a6);
                ShortVector ab7 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 448, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                ShortVector cd7 = (ShortVector) ByteVector.fromMemorySegment(B256, packed, q + 480, Kernels.LE)
                        .convertShape(VectorOperators.B2S, S512, 0);
                v = ab7.mul(IntVector.broadcast(I512, xp[xb + 14]).reinterpretAsShorts())
                        .add(cd7.mul(IntVector.broadcast(I512, xp[xb + 15]).reinterpretAsShorts())).reinterpretAsInts();
                a7 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)).fma(d, a7);
            }
            a0.add(a4).add(a2.add(a6)).add(a1.add(a5).add(a3.add(a7))).intoArray(out, o);
        }

        /** Offsets of the 16 rows of a 16 x 16 array: a gather with it reads one column. */
        private static final int[] ROWS_OF_16 = java.util.stream.IntStream.range(0, 16).map(k -> 16 * k).toArray();

        /**
         * {@code out[o + k]} = {@link #fusedDot}'s lane sum of row k of {@code a} (16 accumulators of 16 lanes), for
         * all 16 rows at once on columns: the same adds in the same tree, without a store and eight dependent loads
         * and adds per row.
         */
        private static void oddLaneSumsOfRows(float[] a, float[] out, int o) {
            FloatVector c1 = FloatVector.fromArray(F512, a, 1, ROWS_OF_16, 0);
            FloatVector c3 = FloatVector.fromArray(F512, a, 3, ROWS_OF_16, 0);
            FloatVector c5 = FloatVector.fromArray(F512, a, 5, ROWS_OF_16, 0);
            FloatVector c7 = FloatVector.fromArray(F512, a, 7, ROWS_OF_16, 0);
            FloatVector c9 = FloatVector.fromArray(F512, a, 9, ROWS_OF_16, 0);
            FloatVector c11 = FloatVector.fromArray(F512, a, 11, ROWS_OF_16, 0);
            FloatVector c13 = FloatVector.fromArray(F512, a, 13, ROWS_OF_16, 0);
            FloatVector c15 = FloatVector.fromArray(F512, a, 15, ROWS_OF_16, 0);
            c1.add(c9).add(c5.add(c13)).add(c3.add(c11).add(c7.add(c15))).intoArray(out, o);
        }

        /**
         * The same float operations for any vector size: per block, each slice of L positions multiplies weights and
         * activation integers (exact in float), sums each group of four neighbouring positions into all four lanes
         * (exact), and adds {@code fma(isum, d_w * d_x, acc)} lane for lane; lane i of llama.cpp's eight is position
         * 4i. {@code lanes} holds the 32 position accumulators.
         */
        float portableDot(int row, Activations x, int t, float[] lanes) {
            long base = row * rowBytes;
            float[] xq = x.f;
            float[] xd = x.d;
            int xo = t * cols;
            int go = t * blocks;
            java.util.Arrays.fill(lanes, 0, 32, 0f);
            for (int b = 0; b < blocks; b++) {
                long p = base + b * 34L;
                FloatVector dd = FloatVector.broadcast(Kernels.F, Kernels.f16(data, p) * xd[go + b]);
                for (int v = 0; v < 32; v += L) {
                    FloatVector sum = Kernels.toFloat(Kernels.bytes(data, p + 2 + v))
                            .mul(FloatVector.fromArray(Kernels.F, xq, xo + 32 * b + v));
                    sum = sum.add(sum.rearrange(PAIR));
                    sum = sum.add(sum.rearrange(QUAD));
                    sum.fma(dd, FloatVector.fromArray(Kernels.F, lanes, v)).intoArray(lanes, v);
                }
            }
            float[] a = lanes;
            return ((a[0] + a[16]) + (a[8] + a[24])) + ((a[4] + a[20]) + (a[12] + a[28]));
        }

        /** hsum_float_8: the upper half added to the lower, then (0 + 2) + (1 + 3). */
        private static float hsum8(FloatVector v, float[] a) {
            v.intoArray(a, 0);
            return hsum8(a, 0);
        }

        private static float hsum8(float[] a, int o) {
            return ((a[o] + a[o + 4]) + (a[o + 2] + a[o + 6])) + ((a[o + 1] + a[o + 5]) + (a[o + 3] + a[o + 7]));
        }

        @Override
        public void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
            if (packed == null) {
                mappedMatmul(x, out, outStride, rowFrom, rowTo);
                return;
            }
            // whole repacked groups inside the range; rows before and after them come from the mapped bytes
            int g0 = Math.min(groups, (rowFrom + 15) / 16);
            int g1 = Math.max(g0, Math.min(groups, rowTo / 16));
            mappedMatmul(x, out, outStride, rowFrom, Math.min(rowTo, g0 * 16));
            // whole groups of 16 tokens in the lanes, the rest per token. Alternated in one process (0.5B-shaped
            // Q8_0, two threads), per token against lanes partly empty: 12 tokens 120 against 82 tok/s, 20 (16 + 4)
            // 99 against 79, 24 (16 + 8) 101 against 84; 15 and 26-30 tokens came out even within the noise
            int n = x.tokens();
            int t0 = x.hasLanes() ? n / 16 * 16 : 0;
            if (t0 > 0) {
                packedTokensInLanes(x, out, outStride, g0, g1, t0 / 16);
            }
            for (int g = g0; g < g1; g++) {
                for (int t = t0; t < n; t++) { // the group stays in the cache from one token to the next
                    groupDot(g, x, t, out, t * outStride + 16 * g);
                }
            }
            mappedMatmul(x, out, outStride, Math.max(rowFrom, g1 * 16), rowTo);
        }

        /** {@link #matmul} of rows that are not repacked, from the mapped bytes. */
        private void mappedMatmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
            if (rowFrom >= rowTo) {
                return;
            }
            int n = x.tokens();
            float[][] tl = tile.get();
            float[] lanes = tl[2 * TILE_ROWS];
            int r = rowFrom;
            if (wide && x.hasLanes() && (n >= LANES_BATCH || n >= LANES_SMALL && n <= 16) && Kernels.L == 16) {
                tokensInLanes(x, out, outStride, rowFrom, rowTo);
                r = rowFrom + (rowTo - rowFrom) / TILE_ROWS * TILE_ROWS;
            } else if (n >= Activations.PLANE_BATCH) {
                int pairs = (n + 1) / 2;
                int chunk = Math.max(2, CHUNK_BYTES / (8 * cols) & ~1); // pairs whose planes take CHUNK_BYTES
                int end = rowFrom + (rowTo - rowFrom) / TILE_ROWS * TILE_ROWS;
                for (int p0 = 0; p0 < pairs; p0 += chunk) {
                    int p1 = Math.min(pairs, p0 + chunk);
                    for (r = rowFrom; r < end; r += TILE_ROWS) {
                        for (int k = 0; k < TILE_ROWS; k++) {
                            decodePlanes(r + k, tl[k], tl[TILE_ROWS + k]);
                        }
                        for (int p = p0; p < p1; p += 2) {
                            if (wide) {
                                tile4x2(tl, x, p, n, r, out, outStride);
                            } else {
                                for (int t = 2 * p; t < Math.min(2 * p + 4, n); t++) {
                                    tile4Half(tl, x, t, r, out, outStride);
                                }
                            }
                        }
                    }
                }
                r = end;
            }
            if (n < Activations.PLANE_BATCH && wide) {
                // a decode step or a keystroke's few tokens: per token, 16 rows' accumulators, then their lane sums
                // side by side (the rows stay in the cache from one token to the next)
                float[] acc = tl[2 * TILE_ROWS + 1];
                float[] acc2 = tl[2 * TILE_ROWS + 2];
                for (; r + 16 <= rowTo; r += 16) {
                    int t = 0;
                    for (; t + 2 <= n; t += 2) {
                        for (int k = 0; k < 16; k++) {
                            wideAccumulator2(r + k, x, t, acc, acc2, 16 * k);
                        }
                        oddLaneSumsOfRows(acc, out, t * outStride + r);
                        oddLaneSumsOfRows(acc2, out, (t + 1) * outStride + r);
                    }
                    for (; t < n; t++) {
                        for (int k = 0; k < 16; k++) {
                            wideAccumulator(r + k, x, t, acc, 16 * k);
                        }
                        oddLaneSumsOfRows(acc, out, t * outStride + r);
                    }
                }
            }
            // rows left over (and batches too small for planes): per token, the row read once from memory and then
            // from the cache
            for (; r < rowTo; r++) {
                for (int t = 0; t < n; t++) {
                    out[t * outStride + r] = fusedDot(r, x, t, lanes);
                }
            }
        }

        /** Batches from this size on take {@link #lanes4x2} (two groups of 16 tokens per tile). */
        static final int LANES_BATCH = 32;
        /**
         * Batches of this many to 16 tokens take {@link #lanes4x1} (one token group, the rest of its lanes empty)
         * instead of the per-token kernel (11 and fewer) and the planes (16). Alternated in one process, 0.5B-shaped
         * Q8_0, two threads, against the kernels before: 10 tokens 59.9/59.2 tok/s (new faster in 7 of 16 rounds),
         * 11: 53.9/59.9 (11 of 16), 12: 62.5/73.9 (16/16), 15: 60.7/82.7 (16/16), 16: 83.5/91.3 (14/16); 4 tokens
         * ran at half the speed and 9 at 0.94x, so they keep the per-token kernel.
         */
        static final int LANES_SMALL = 11;
        /** Bytes of token-lane activations per chunk of a batch, kept in the L2 cache while the row tiles pass. */
        private static final int LANE_CHUNK_BYTES = 640 * 1024;
        private static final ThreadLocal<LaneScratch> LANE_SCRATCH = ThreadLocal.withInitial(LaneScratch::new);

        /**
         * Per-thread buffers of {@link #lanes4x2}, shared by all Q8_0 matrices (sized for the widest): up to 16 rows
         * decoded to floats, element-major within tiles of four ({@code rows[4 t cols + 4 e + k]}: element e of row
         * 4t + k) and their block scales ({@code scales[16 b + 4 t + k]}), so that a repacked group decodes with
         * whole vectors ({@link #decodeGroup}).
         */
        private static final class LaneScratch {
            float[] rows = new float[0];
            float[] scales = new float[0];
            float[] products = new float[0];
            final float[] sums = new float[8 * 8 * 16];

            void ensure(int cols) {
                if (rows.length < 16 * cols) {
                    rows = new float[16 * cols];
                    scales = new float[16 * (cols / 32)];
                    products = new float[cols / 32 * 8 * 16];
                }
            }
        }

        /**
         * Token groups per chunk of {@link #tokensInLanes}. Wide rows (4864 columns) would fit only two, and decoding
         * the rows again for every chunk of two cost more than the chunks saved (one thread, 896 x 4864 at 512 tokens:
         * 81 ms, against 71 ms without chunks and 76 ms for {@link #tile4x2}): they take all groups in one chunk.
         */
        private int laneChunk(int groups) {
            int fit = LANE_CHUNK_BYTES / (cols * 16 * Float.BYTES) & ~1;
            return fit >= 4 ? fit : groups;
        }

        /**
         * Batches with the tokens in the lanes ({@link Activations#lanes}), in chunks of token groups that stay in the
         * L2 cache: for each four rows (decoded to floats once per chunk), two token groups at a time.
         */
        private void tokensInLanes(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
            LaneScratch s = LANE_SCRATCH.get();
            s.ensure(cols);
            int groups = (x.tokens() + 15) / 16;
            int chunk = laneChunk(groups);
            int end = rowFrom + (rowTo - rowFrom) / TILE_ROWS * TILE_ROWS;
            for (int c0 = 0; c0 < groups; c0 += chunk) {
                int c1 = Math.min(groups, c0 + chunk);
                for (int r = rowFrom; r < end; r += TILE_ROWS) {
                    for (int k = 0; k < TILE_ROWS; k++) {
                        decodeRowElementMajor(r + k, s.rows, s.scales, k);
                    }
                    for (int tg = c0; tg < c1; tg += 2) {
                        if (tg + 1 < c1) {
                            lanes4x2(s, x, tg, r, 0, out, outStride);
                        } else {
                            lanes4x1(s, x, tg, r, 0, out, outStride);
                        }
                    }
                }
            }
        }

        /**
         * {@link #tokensInLanes} for the repacked groups [g0, g1): each group decoded once per chunk of token groups
         * (with whole vectors: one load gives bytes j and j + 1 of its 16 rows), then its four tiles of four rows.
         */
        private void packedTokensInLanes(Activations x, float[] out, int outStride, int g0, int g1, int tokenGroups) {
            LaneScratch s = LANE_SCRATCH.get();
            s.ensure(cols);
            int chunk = laneChunk(tokenGroups);
            for (int c0 = 0; c0 < tokenGroups; c0 += chunk) {
                int c1 = Math.min(tokenGroups, c0 + chunk);
                for (int g = g0; g < g1; g++) {
                    decodeGroup(g, s.rows, s.scales);
                    for (int k0 = 0; k0 < 16; k0 += TILE_ROWS) {
                        for (int tg = c0; tg < c1; tg += 2) {
                            if (tg + 1 < c1) {
                                lanes4x2(s, x, tg, 16 * g + k0, k0, out, outStride);
                            } else {
                                lanes4x1(s, x, tg, 16 * g + k0, k0, out, outStride);
                            }
                        }
                    }
                }
            }
        }

        /**
         * Row {@code row} from the mapped bytes into row k (0-3) of the first tile of the scratch
         * ({@code q[4 e + k]}, {@code scale[16 b + k]}; see {@link #decodeGroup}): rows outside repacked groups only,
         * so written plainly.
         */
        private void decodeRowElementMajor(int row, float[] q, float[] scale, int k) {
            long base = row * rowBytes;
            for (int b = 0; b < blocks; b++) {
                long p = base + b * 34L;
                scale[16 * b + k] = Kernels.f16(data, p);
                for (int i = 0; i < 32; i++) {
                    q[4 * (32 * b + i) + k] = data.get(ValueLayout.JAVA_BYTE, p + 2 + i);
                }
            }
        }

        /** Lanes 4t .. 4t + 3 (the rows of tile t of a group). */
        private static final VectorMask<Float> TILE0 = VectorMask.fromLong(F512, 0xFL),
                TILE1 = VectorMask.fromLong(F512, 0xF0L), TILE2 = VectorMask.fromLong(F512, 0xF00L),
                TILE3 = VectorMask.fromLong(F512, 0xF000L);

        /**
         * Repacked group g decoded to floats, element-major within each tile of four rows: element e of row
         * 16 g + 4 t + k at {@code q[4 t cols + 4 e + k]}, so that a tile's rows take a quarter of the scratch (with
         * all 16 rows interleaved, every tile read the whole group, and products of rows as wide as 4864 columns ran
         * 7 % slower than from four decoded rows); block scales at {@code scale[16 b + 4 t + k]}. Each 32-byte load
         * holds bytes j and j + 1 of the 16 rows, row k's pair in 32-bit lane k once widened: its low half is element
         * j, its high half element j + 1; each tile's four lanes are stored with a masked store.
         */
        private void decodeGroup(int g, float[] q, float[] scale) {
            long base = (long) g * blocks * GROUP_BLOCK;
            int t1 = 4 * cols, t2 = 8 * cols, t3 = 12 * cols;
            for (int b = 0; b < blocks; b++) {
                long p = base + b * GROUP_BLOCK;
                RowGroups.scales(packed, p).intoArray(scale, 16 * b); // as Q4Matrix.decodeGroup does
                for (int m = 0; m < 16; m++) {
                    IntVector v = ((ShortVector) ByteVector.fromMemorySegment(B256, packed, p + 32 + 32L * m,
                            Kernels.LE).convertShape(VectorOperators.B2S, S512, 0)).reinterpretAsInts();
                    int o = 4 * (32 * b + 2 * m);
                    FloatVector lo = (FloatVector) v.lanewise(VectorOperators.LSHL, 16)
                            .lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
                    FloatVector hi = (FloatVector) v.lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    // lane 4t + k to q[4 t cols + o + k]: offsets shifted back by 4t, only the tile's lanes stored
                    lo.intoArray(q, o, TILE0);
                    lo.intoArray(q, t1 + o - 4, TILE1);
                    lo.intoArray(q, t2 + o - 8, TILE2);
                    lo.intoArray(q, t3 + o - 12, TILE3);
                    hi.intoArray(q, o + 4, TILE0);
                    hi.intoArray(q, t1 + o, TILE1);
                    hi.intoArray(q, t2 + o - 4, TILE2);
                    hi.intoArray(q, t3 + o - 8, TILE3);
                }
            }
        }

        /**
         * Four decoded rows (r..r+3) times token groups tg and tg + 1, tokens in the lanes, llama.cpp's operations
         * per token: for each lane i of its eight-lane accumulator (elements 4i..4i+3 of every block) the exact sum of
         * four products, then {@code acc_i = fma(isum, d_x * d_w, acc_i)} along the blocks; hsum_float_8's order at
         * the end. One lane i at a time over all blocks: eight sums and eight accumulators stay in registers (twelve
         * made C2 spill the accumulators, which here change every four FMAs); the {@code d_x * d_w} are computed once
         * before.
         */
        private void lanes4x2(LaneScratch s, Activations x, int tg, int r, int k0, float[] out, int outStride) {
            float[] q = s.rows;
            float[] dd = s.products;
            float[] xl = x.lanes;
            float[] dl = x.laneScales;
            int xo = tg * cols * 16, yo = xo + cols * 16;
            int xb = tg * blocks * 16, yb = xb + blocks * 16;
            float[] dw = s.scales;
            for (int b = 0; b < blocks; b++) {
                FloatVector dx = FloatVector.fromArray(F512, dl, xb + 16 * b);
                FloatVector dy = FloatVector.fromArray(F512, dl, yb + 16 * b);
                for (int k = 0; k < 4; k++) {
                    float w = dw[16 * b + k0 + k];
                    dx.mul(w).intoArray(dd, 128 * b + 32 * k);
                    dy.mul(w).intoArray(dd, 128 * b + 32 * k + 16);
                }
            }
            float[] sums = s.sums;
            for (int i = 0; i < 8; i++) {
                FloatVector z = FloatVector.zero(F512);
                FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
                for (int b = 0; b < blocks; b++) {
                    int e = 32 * b + 4 * i;
                    int qe = k0 * cols + 4 * e;
                    FloatVector xv = FloatVector.fromArray(F512, xl, xo + 16 * e);
                    FloatVector yv = FloatVector.fromArray(F512, xl, yo + 16 * e);
                    FloatVector v = FloatVector.broadcast(F512, q[qe]);
                    FloatVector s0 = xv.mul(v), t0 = yv.mul(v);
                    v = FloatVector.broadcast(F512, q[qe + 1]);
                    FloatVector s1 = xv.mul(v), t1 = yv.mul(v);
                    v = FloatVector.broadcast(F512, q[qe + 2]);
                    FloatVector s2 = xv.mul(v), t2 = yv.mul(v);
                    v = FloatVector.broadcast(F512, q[qe + 3]);
                    FloatVector s3 = xv.mul(v), t3 = yv.mul(v);
                    for (int f = 1; f < 4; f++) {
                        xv = FloatVector.fromArray(F512, xl, xo + 16 * (e + f));
                        yv = FloatVector.fromArray(F512, xl, yo + 16 * (e + f));
                        int qf = qe + 4 * f;
                        v = FloatVector.broadcast(F512, q[qf]);
                        s0 = xv.fma(v, s0);
                        t0 = yv.fma(v, t0);
                        v = FloatVector.broadcast(F512, q[qf + 1]);
                        s1 = xv.fma(v, s1);
                        t1 = yv.fma(v, t1);
                        v = FloatVector.broadcast(F512, q[qf + 2]);
                        s2 = xv.fma(v, s2);
                        t2 = yv.fma(v, t2);
                        v = FloatVector.broadcast(F512, q[qf + 3]);
                        s3 = xv.fma(v, s3);
                        t3 = yv.fma(v, t3);
                    }
                    int o = 128 * b;
                    a0 = s0.fma(FloatVector.fromArray(F512, dd, o), a0);
                    b0 = t0.fma(FloatVector.fromArray(F512, dd, o + 16), b0);
                    a1 = s1.fma(FloatVector.fromArray(F512, dd, o + 32), a1);
                    b1 = t1.fma(FloatVector.fromArray(F512, dd, o + 48), b1);
                    a2 = s2.fma(FloatVector.fromArray(F512, dd, o + 64), a2);
                    b2 = t2.fma(FloatVector.fromArray(F512, dd, o + 80), b2);
                    a3 = s3.fma(FloatVector.fromArray(F512, dd, o + 96), a3);
                    b3 = t3.fma(FloatVector.fromArray(F512, dd, o + 112), b3);
                }
                int o = 128 * i;
                a0.intoArray(sums, o);
                b0.intoArray(sums, o + 16);
                a1.intoArray(sums, o + 32);
                b1.intoArray(sums, o + 48);
                a2.intoArray(sums, o + 64);
                b2.intoArray(sums, o + 80);
                a3.intoArray(sums, o + 96);
                b3.intoArray(sums, o + 112);
            }
            int n = x.tokens();
            for (int k = 0; k < 4; k++) {
                for (int j = 0; j < 2; j++) {
                    int c = 32 * k + 16 * j;
                    for (int h = 0, t = (tg + j) * 16; h < 16 && t < n; h++, t++) {
                        int a = c + h;
                        out[t * outStride + r + k] = ((sums[a] + sums[a + 512]) + (sums[a + 256] + sums[a + 768]))
                                + ((sums[a + 128] + sums[a + 640]) + (sums[a + 384] + sums[a + 896]));
                    }
                }
            }
        }

        /**
         * {@link #lanes4x2} for one token group: the last of an odd number (which lanes4x2 computed twice), and, for
         * rows not repacked, batches of {@link #LANES_SMALL} to 16 tokens (one group, some lanes empty), which this
         * runs faster than the row-by-row per-token kernel once about two thirds of the lanes hold tokens.
         */
        private void lanes4x1(LaneScratch s, Activations x, int tg, int r, int k0, float[] out, int outStride) {
            float[] q = s.rows;
            float[] dd = s.products;
            float[] xl = x.lanes;
            float[] dl = x.laneScales;
            int xo = tg * cols * 16;
            int xb = tg * blocks * 16;
            float[] dw = s.scales;
            for (int b = 0; b < blocks; b++) {
                FloatVector dx = FloatVector.fromArray(F512, dl, xb + 16 * b);
                for (int k = 0; k < 4; k++) {
                    float w = dw[16 * b + k0 + k];
                    dx.mul(w).intoArray(dd, 64 * b + 16 * k);
                }
            }
            float[] sums = s.sums;
            for (int i = 0; i < 8; i++) {
                FloatVector z = FloatVector.zero(F512);
                FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
                for (int b = 0; b < blocks; b++) {
                    int e = 32 * b + 4 * i;
                    int qe = k0 * cols + 4 * e;
                    FloatVector xv = FloatVector.fromArray(F512, xl, xo + 16 * e);
                    FloatVector v = FloatVector.broadcast(F512, q[qe]);
                    FloatVector s0 = xv.mul(v);
                    v = FloatVector.broadcast(F512, q[qe + 1]);
                    FloatVector s1 = xv.mul(v);
                    v = FloatVector.broadcast(F512, q[qe + 2]);
                    FloatVector s2 = xv.mul(v);
                    v = FloatVector.broadcast(F512, q[qe + 3]);
                    FloatVector s3 = xv.mul(v);
                    for (int f = 1; f < 4; f++) {
                        xv = FloatVector.fromArray(F512, xl, xo + 16 * (e + f));
                        int qf = qe + 4 * f;
                        v = FloatVector.broadcast(F512, q[qf]);
                        s0 = xv.fma(v, s0);
                        v = FloatVector.broadcast(F512, q[qf + 1]);
                        s1 = xv.fma(v, s1);
                        v = FloatVector.broadcast(F512, q[qf + 2]);
                        s2 = xv.fma(v, s2);
                        v = FloatVector.broadcast(F512, q[qf + 3]);
                        s3 = xv.fma(v, s3);
                    }
                    int o = 64 * b;
                    a0 = s0.fma(FloatVector.fromArray(F512, dd, o), a0);
                    a1 = s1.fma(FloatVector.fromArray(F512, dd, o + 16), a1);
                    a2 = s2.fma(FloatVector.fromArray(F512, dd, o + 32), a2);
                    a3 = s3.fma(FloatVector.fromArray(F512, dd, o + 48), a3);
                }
                int o = 64 * i;
                a0.intoArray(sums, o);
                a1.intoArray(sums, o + 16);
                a2.intoArray(sums, o + 32);
                a3.intoArray(sums, o + 48);
            }
            // one exit test: whole and partial groups take the same branches (no trap for the kind warm-up skipped)
            int m = Math.min(16, x.tokens() - tg * 16);
            for (int k = 0; k < 4; k++) {
                for (int h = 0, t = tg * 16; h < m; h++, t++) {
                    int a = 16 * k + h;
                    out[t * outStride + r + k] = ((sums[a] + sums[a + 256]) + (sums[a + 128] + sums[a + 384]))
                            + ((sums[a + 64] + sums[a + 320]) + (sums[a + 192] + sums[a + 448]));
                }
            }
        }

        /**
         * Row r as planes, doubled for a token pair: {@code w[64 b + 16 e + 8 h + i] = q[32 b + 4 i + e]} for h = 0, 1
         * (see {@link Activations#planes}), and each block's scale.
         */
        private void decodePlanes(int r, float[] w, float[] scale) {
            long base = r * rowBytes;
            for (int b = 0; b < blocks; b++) {
                long p = base + b * 34L;
                scale[b] = Kernels.f16(data, p);
                // each int holds elements 4i..4i+3; byte e of lane i, sign-extended, is element 4i + e
                IntVector v = IntVector.fromMemorySegment(I256, data, p + 2, Kernels.LE);
                int o = 64 * b;
                for (int e = 0; e < 4; e++) {
                    FloatVector plane = (FloatVector) v.lanewise(VectorOperators.LSHL, 24 - 8 * e)
                            .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F256, 0);
                    plane.intoArray(w, o + 16 * e);
                    plane.intoArray(w, o + 16 * e + 8);
                }
            }
        }

        /**
         * {@link #tile4x2} for one token in 8-lane vectors, for machines without AVX-512: the token's half of each
         * plane and scale vector, the same operations lane for lane.
         */
        private void tile4Half(float[][] tl, Activations x, int t, int r, float[] out, int outStride) {
            float[] xp = x.planes();
            float[] xs = x.pairScales();
            float[] w0 = tl[0], w1 = tl[1], w2 = tl[2], w3 = tl[3];
            float[] s0 = tl[4], s1 = tl[5], s2 = tl[6], s3 = tl[7];
            int xa = (t / 2) * 2 * cols + 8 * (t % 2);
            int sa = (t / 2) * 16 * blocks + 8 * (t % 2);
            FloatVector a0 = FloatVector.zero(F256), a1 = a0, a2 = a0, a3 = a0;
            for (int b = 0; b < blocks; b++) {
                int o = 64 * b;
                FloatVector x0 = FloatVector.fromArray(F256, xp, xa + o);
                FloatVector x1 = FloatVector.fromArray(F256, xp, xa + o + 16);
                FloatVector x2 = FloatVector.fromArray(F256, xp, xa + o + 32);
                FloatVector x3 = FloatVector.fromArray(F256, xp, xa + o + 48);
                FloatVector dx = FloatVector.fromArray(F256, xs, sa + 16 * b);
                a0 = FloatVector.fromArray(F256, w0, o + 48).fma(x3, FloatVector.fromArray(F256, w0, o + 32).fma(x2,
                        FloatVector.fromArray(F256, w0, o + 16).fma(x1, FloatVector.fromArray(F256, w0, o).mul(x0))))
                        .fma(dx.mul(s0[b]), a0);
                a1 = FloatVector.fromArray(F256, w1, o + 48).fma(x3, FloatVector.fromArray(F256, w1, o + 32).fma(x2,
                        FloatVector.fromArray(F256, w1, o + 16).fma(x1, FloatVector.fromArray(F256, w1, o).mul(x0))))
                        .fma(dx.mul(s1[b]), a1);
                a2 = FloatVector.fromArray(F256, w2, o + 48).fma(x3, FloatVector.fromArray(F256, w2, o + 32).fma(x2,
                        FloatVector.fromArray(F256, w2, o + 16).fma(x1, FloatVector.fromArray(F256, w2, o).mul(x0))))
                        .fma(dx.mul(s2[b]), a2);
                a3 = FloatVector.fromArray(F256, w3, o + 48).fma(x3, FloatVector.fromArray(F256, w3, o + 32).fma(x2,
                        FloatVector.fromArray(F256, w3, o + 16).fma(x1, FloatVector.fromArray(F256, w3, o).mul(x0))))
                        .fma(dx.mul(s3[b]), a3);
            }
            float[] lanes = tl[2 * TILE_ROWS];
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, 8);
            a2.intoArray(lanes, 16);
            a3.intoArray(lanes, 24);
            for (int k = 0; k < 4; k++) {
                out[t * outStride + r + k] = hsum8(lanes, 8 * k);
            }
        }

        /**
         * Four decoded rows times token pairs p and p + 1 (lanes 0-7 token 2p, lanes 8-15 token 2p + 1, and so on);
         * each activation plane is loaded once for four rows and each weight plane once for two pairs. Per row,
         * pair and block: the four planes' products summed in float (exact integers), then
         * {@code acc = fma(isum, d_x * d_w, acc)}. Written out in full: C2 must keep every vector in a register (a
         * helper call it does not inline boxes them). Pair p + 1 may be past the last token: its lanes are zeros.
         */
        private void tile4x2(float[][] tl, Activations x, int p, int n, int r, float[] out, int outStride) {
            float[] xp = x.planes();
            float[] xs = x.pairScales();
            float[] w0 = tl[0], w1 = tl[1], w2 = tl[2], w3 = tl[3];
            float[] s0 = tl[4], s1 = tl[5], s2 = tl[6], s3 = tl[7];
            int xa = p * 2 * cols, xb = xa + 2 * cols;
            int sa = p * 16 * blocks, sb = sa + 16 * blocks;
            FloatVector a0 = FloatVector.zero(F512), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int b = 0; b < blocks; b++) {
                int o = 64 * b;
                FloatVector x0 = FloatVector.fromArray(F512, xp, xa + o);
                FloatVector x1 = FloatVector.fromArray(F512, xp, xa + o + 16);
                FloatVector x2 = FloatVector.fromArray(F512, xp, xa + o + 32);
                FloatVector x3 = FloatVector.fromArray(F512, xp, xa + o + 48);
                FloatVector y0 = FloatVector.fromArray(F512, xp, xb + o);
                FloatVector y1 = FloatVector.fromArray(F512, xp, xb + o + 16);
                FloatVector y2 = FloatVector.fromArray(F512, xp, xb + o + 32);
                FloatVector y3 = FloatVector.fromArray(F512, xp, xb + o + 48);
                FloatVector dx = FloatVector.fromArray(F512, xs, sa + 16 * b);
                FloatVector dy = FloatVector.fromArray(F512, xs, sb + 16 * b);
                FloatVector v0 = FloatVector.fromArray(F512, w0, o);
                FloatVector v1 = FloatVector.fromArray(F512, w0, o + 16);
                FloatVector v2 = FloatVector.fromArray(F512, w0, o + 32);
                FloatVector v3 = FloatVector.fromArray(F512, w0, o + 48);
                a0 = v3.fma(x3, v2.fma(x2, v1.fma(x1, v0.mul(x0)))).fma(dx.mul(s0[b]), a0);
                b0 = v3.fma(y3, v2.fma(y2, v1.fma(y1, v0.mul(y0)))).fma(dy.mul(s0[b]), b0);
                v0 = FloatVector.fromArray(F512, w1, o);
                v1 = FloatVector.fromArray(F512, w1, o + 16);
                v2 = FloatVector.fromArray(F512, w1, o + 32);
                v3 = FloatVector.fromArray(F512, w1, o + 48);
                a1 = v3.fma(x3, v2.fma(x2, v1.fma(x1, v0.mul(x0)))).fma(dx.mul(s1[b]), a1);
                b1 = v3.fma(y3, v2.fma(y2, v1.fma(y1, v0.mul(y0)))).fma(dy.mul(s1[b]), b1);
                v0 = FloatVector.fromArray(F512, w2, o);
                v1 = FloatVector.fromArray(F512, w2, o + 16);
                v2 = FloatVector.fromArray(F512, w2, o + 32);
                v3 = FloatVector.fromArray(F512, w2, o + 48);
                a2 = v3.fma(x3, v2.fma(x2, v1.fma(x1, v0.mul(x0)))).fma(dx.mul(s2[b]), a2);
                b2 = v3.fma(y3, v2.fma(y2, v1.fma(y1, v0.mul(y0)))).fma(dy.mul(s2[b]), b2);
                v0 = FloatVector.fromArray(F512, w3, o);
                v1 = FloatVector.fromArray(F512, w3, o + 16);
                v2 = FloatVector.fromArray(F512, w3, o + 32);
                v3 = FloatVector.fromArray(F512, w3, o + 48);
                a3 = v3.fma(x3, v2.fma(x2, v1.fma(x1, v0.mul(x0)))).fma(dx.mul(s3[b]), a3);
                b3 = v3.fma(y3, v2.fma(y2, v1.fma(y1, v0.mul(y0)))).fma(dy.mul(s3[b]), b3);
            }
            float[] lanes = tl[2 * TILE_ROWS];
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, 16);
            a2.intoArray(lanes, 32);
            a3.intoArray(lanes, 48);
            b0.intoArray(lanes, 64);
            b1.intoArray(lanes, 80);
            b2.intoArray(lanes, 96);
            b3.intoArray(lanes, 112);
            for (int q = 0; q < 2; q++) {
                for (int h = 0; h < 2; h++) {
                    int t = 2 * (p + q) + h;
                    if (t < n) {
                        for (int k = 0; k < 4; k++) {
                            out[t * outStride + r + k] = hsum8(lanes, 64 * q + 16 * k + 8 * h);
                        }
                    }
                }
            }
        }

        @Override
        protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
            decodeRowAt(row, q, 0, scale, 0);
        }

        /**
         * Row {@code row}'s values as floats to {@code q[qo..)}, its block scales to {@code scale[so..)}. The
         * conversion is written out: as vector helpers left out of line, {@code Kernels.toFloat}/{@code bytes} box.
         */
        private void decodeRowAt(int row, float[] q, int qo, float[] scale, int so) {
            long base = row * rowBytes;
            for (int b = 0; b < blocks; b++) {
                long p = base + b * 34L;
                scale[so + b] = Kernels.f16(data, p);
                for (int i = 0; i < 32; i += L) {
                    ((FloatVector) ByteVector.fromMemorySegment(Kernels.B, data, p + 2 + i, Kernels.LE)
                            .convertShape(VectorOperators.B2F, Kernels.F, 0)).intoArray(q, qo + 32 * b + i);
                }
            }
        }
    }

    /** Splits 16 bytes of nibbles into 32 values (low nibbles first), minus {@code bias}. */
    static void nibbles(MemorySegment data, long p, float[] q, int o, byte bias) {
        for (int j = 0; j < 16; j += L) {
            ByteVector v = Kernels.bytes(data, p + j);
            Kernels.toFloat(v.and((byte) 0xF).sub(bias)).intoArray(q, o + j);
            Kernels.toFloat(v.lanewise(VectorOperators.LSHR, 4).sub(bias)).intoArray(q, o + 16 + j);
        }
    }

    /**
     * 32 five-bit values: nibbles as in Q4 plus bit e of qh as bit 4 of element e, minus {@code bias}; bit 4 comes
     * from rotates of the broadcast qh ({@link #HIGH_BIT_ROTATION}, then by the chunk's first element).
     */
    static void fiveBits(MemorySegment data, long p, int qh, float[] q, int o, int bias) {
        IntVector high = IntVector.broadcast(Kernels.I, qh).lanewise(VectorOperators.ROR, HIGH_BIT_ROTATION);
        for (int j = 0; j < 16; j += L) {
            IntVector v = Kernels.unsignedInts(data, p + j);
            ((FloatVector) v.and(0xF).or(high.lanewise(VectorOperators.ROR, j).and(16)).sub(bias)
                    .convert(VectorOperators.I2F, 0)).intoArray(q, o + j);
            ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).or(high.lanewise(VectorOperators.ROR, 16 + j).and(16))
                    .sub(bias).convert(VectorOperators.I2F, 0)).intoArray(q, o + 16 + j);
        }
    }

    /** Lane i rotates right by i - 4 (mod 32): bit i of a broadcast qh to bit 4. */
    static final IntVector HIGH_BIT_ROTATION = Kernels.IOTA.sub(4).and(31);
}
