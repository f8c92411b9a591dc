package dev.flint.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * ggml's K-quants: super-blocks of 256 values. Q4_K/Q5_K carry 8 sub-blocks of 32 with 6-bit scales and mins packed
 * in 12 bytes (value = d * scale * q - dmin * min); their 128 bytes of nibbles are 4 groups of 32 bytes, group j
 * holding sub-block 2j in its low nibbles and 2j + 1 in its high ones. Q6_K has 16 int8 scales, one per 16 values.
 */
final class KQuants {
    private KQuants() {}

    /** How a type's block minimums enter the dot product (each mirrors one of llama.cpp's AVX2 kernels). */
    enum MinTerm {
        /** Q6_K: no minimums. */
        NONE,
        /** Q4_K: four lanes of FMAs over super-blocks, summed pairwise at the end. */
        FOUR_LANES,
        /** Q5_K: one scalar FMA per super-block. */
        SCALAR
    }

    /** The 512-bit integer kernels (single tokens), where vectors have 16 float lanes. */
    static final boolean WIDE = LegacyQuants.Q8_0.WIDE;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorShuffle<Float> PAIR_512 = VectorShuffle.fromOp(F512, i -> i ^ 1);
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    /** Q6_K: run m of a half takes scale 2m in lanes 0-7 and 2m + 1 in lanes 8-15; the next half's scales move down. */
    private static final VectorShuffle<Float> RUN_SCALES_0 = VectorShuffle.fromOp(F512, i -> i < 8 ? 0 : 1);
    private static final VectorShuffle<Float> RUN_SCALES_1 = VectorShuffle.fromOp(F512, i -> i < 8 ? 2 : 3);
    private static final VectorShuffle<Float> RUN_SCALES_2 = VectorShuffle.fromOp(F512, i -> i < 8 ? 4 : 5);
    private static final VectorShuffle<Float> RUN_SCALES_3 = VectorShuffle.fromOp(F512, i -> i < 8 ? 6 : 7);
    private static final VectorShuffle<Float> NEXT_HALF = VectorShuffle.fromOp(F512, i -> (i + 8) & 15);

    /** Pairs and quads of neighbouring lanes, to sum each group of four positions into all four. */
    private static final VectorShuffle<Float> PAIR = VectorShuffle.fromOp(F, i -> i ^ 1);
    private static final VectorShuffle<Float> QUAD = VectorShuffle.fromOp(F, i -> i ^ 2);

    /**
     * The K-quant dot product of llama.cpp's x86 build (ggml_vec_dot_q{4,5,6}_K_q8_K, AVX2 path; every batch size
     * runs it, there is no tiled product for these types). Per super-block it forms eight integer sums, sum k taking
     * positions 4k..4k+3 of every 32 values, each product weighted by its sub-block's integer scale; then
     * {@code acc[k] = fma(d_x * d_w, sum[k], acc[k])} over super-blocks, and a fixed horizontal sum of the eight
     * lanes. Here the row is decoded to {@code q * scale} (exact integers in float), the products summed per position
     * (exact: every partial sum stays below 2^24), groups of four positions added together (exact), and the FMAs run
     * lane for lane as llama.cpp's do, so the float result is the same bit for bit.
     */
    abstract static class KQuantMatrix extends QuantizedMatrix {
        /**
         * Rows decoded together for a batch (about 300 KB at 4864 columns, 570 KB at 8960: they stay in L2 while the
         * tile's four-row quads take each span of activations in turn).
         */
        private static final int TILE_ROWS = 16;
        final int blockBytes;
        final int subBlocks;
        private final MinTerm minTerm;
        final ThreadLocal<Scaled> scaled;
        /**
         * Per thread, shared by every K-quant matrix (a tile per matrix would take threads x matrices x 8 rows: close
         * to a gigabyte for a 7B model on 8 threads): {@link #TILE_ROWS} decoded rows for batches, sized for the
         * widest row seen.
         */
        private static final ThreadLocal<Scaled[]> TILE = ThreadLocal.withInitial(() -> new Scaled[0]);

        /** A row decoded for the dot product: q times its integer scale, d and dmin per super-block, integer mins. */
        static final class Scaled {
            final float[] q;
            final float[] d;
            final float[] dmin;
            final float[] mins;
            final float[] lanes = new float[Math.max(32, L)];
            /** Four tokens' position accumulators, 32 each. */
            final float[] lanes4 = new float[4 * Math.max(32, L)];
            /** One super-block's integer scales, for the fused kernel. */
            final float[] sc = new float[16];
            /**
             * A repacked group's eight lane accumulators, then one super-block's scales (eight for
             * {@link Q4_K#groupDot}, sixteen for {@link Q6_K#groupDot}); Q5_K keeps {@code d_x * d_w} and the low
             * nibbles' sums after its eight.
             */
            final float[] group = new float[25 * L];
            /** A repacked group's mins of one super-block ({@link Q4_K#addGroupMins}). */
            final float[] groupMins = new float[8 * L];

            Scaled(int cols) {
                q = new float[cols];
                d = new float[cols / 256];
                dmin = new float[cols / 256];
                mins = new float[cols / 32];
            }
        }

        /**
         * Rows [0, packedRows) repacked in groups of L for {@link #groupDot} (Q4_K and Q6_K with 16-lane vectors:
         * {@link Q4KRowGroups}, {@link Q6KRowGroups}), or null when not repacked.
         */
        final MemorySegment packed;
        private final int packedRows;

        KQuantMatrix(GgmlType type, MemorySegment data, int rows, int cols, int group, MinTerm minTerm,
                MemorySegment packed) {
            super(type, data, rows, cols, group, minTerm != MinTerm.NONE);
            this.blockBytes = type.blockBytes;
            this.subBlocks = 256 / group;
            this.minTerm = minTerm;
            this.scaled = ThreadLocal.withInitial(() -> new Scaled(cols));
            this.packed = packed;
            this.packedRows = packed == null ? 0 : rows / L * L;
        }

        @Override
        public boolean repacked() {
            return packed != null;
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.Q8_K;
        }

        /** Writes the 256 integers of the super-block at p to q[o..] (Q6_K: already minus 32). */
        protected abstract void decodeInts(long p, float[] q, int o);

        /** Integer scale of sub-block s. */
        protected abstract int scale(long p, int s);

        protected abstract float d(long p);

        /** Integer minimum of sub-block s (types with minimums). */
        protected int min(long p, int s) {
            return 0;
        }

        protected float dmin(long p) {
            return 0f;
        }

        /** Sums each group of four positions of a slice (exact integers), then one FMA per lane with dd. */
        static void accumulate(FloatVector sum, float dd, float[] acc, int v) {
            sum = sum.add(sum.rearrange(PAIR));
            sum = sum.add(sum.rearrange(QUAD));
            sum.fma(FloatVector.broadcast(F, dd), FloatVector.fromArray(F, acc, v)).intoArray(acc, v);
        }

        @Override
        protected void decodeRow(int row, float[] q, float[] scale, float[] min) {
            long base = row * rowBytes;
            for (int b = 0; b < cols / 256; b++) {
                long p = base + (long) b * blockBytes;
                decodeInts(p, q, 256 * b);
                float d = d(p);
                float dmin = dmin(p);
                for (int s = 0; s < subBlocks; s++) {
                    scale[subBlocks * b + s] = d * scale(p, s);
                    if (minTerm != MinTerm.NONE) {
                        min[subBlocks * b + s] = -(dmin * min(p, s));
                    }
                }
            }
        }

        /** This thread's tile, with rows of at least {@code cols} values. */
        private static Scaled[] tile(int cols) {
            Scaled[] t = TILE.get();
            if (t.length == 0 || t[0].q.length < cols) {
                t = new Scaled[TILE_ROWS];
                for (int k = 0; k < TILE_ROWS; k++) {
                    t[k] = new Scaled(cols);
                }
                TILE.set(t);
            }
            return t;
        }

        private Scaled decodeScaled(int row) {
            return decodeScaled(row, scaled.get());
        }

        private Scaled decodeScaled(int row, Scaled s) {
            if (row < groupRows()) {
                decodePacked(row, s, null);
                return s;
            }
            long base = row * rowBytes;
            float[] q = s.q;
            for (int b = 0; b < cols / 256; b++) {
                long p = base + (long) b * blockBytes;
                decodeInts(p, q, 256 * b);
                s.d[b] = d(p);
                for (int k = 0; k < subBlocks; k++) {
                    int o = 256 * b + group * k;
                    float sc = scale(p, k);
                    if (group % L == 0) {
                        FloatVector sv = FloatVector.broadcast(F, sc);
                        for (int i = 0; i < group; i += L) {
                            FloatVector.fromArray(F, q, o + i).mul(sv).intoArray(q, o + i);
                        }
                    } else {
                        for (int i = 0; i < group; i++) {
                            q[o + i] *= sc;
                        }
                    }
                }
                if (minTerm != MinTerm.NONE) {
                    s.dmin[b] = dmin(p);
                    for (int k = 0; k < 8; k++) {
                        s.mins[8 * b + k] = min(p, k);
                    }
                }
            }
            return s;
        }

        @Override
        public float dot(int row, Activations x, int token) {
            return smallBatchDot(row, x, token);
        }

        /**
         * A thread's copy of one repacked group as ints, for the gathers of {@code decodePacked} (the Vector API
         * gathers from arrays only); rows of the same group, decoded one after another, reuse it.
         */
        private static final class GroupInts {
            Object owner;
            int group = -1;
            int[] ints = new int[0];
        }

        private static final ThreadLocal<GroupInts> GROUP_INTS = ThreadLocal.withInitial(GroupInts::new);

        /** This thread's copy of repacked group g as ints, its super-blocks {@code blockBytes} long each. */
        final int[] groupInts(int g, int blockBytes) {
            int count = cols / 256 * blockBytes / 4;
            GroupInts c = GROUP_INTS.get();
            if (c.owner != this || c.group != g) {
                if (c.ints.length < count) {
                    c.ints = new int[count];
                }
                MemorySegment.copy(packed, Kernels.INT, (long) g * count * 4, c.ints, 0, count);
                c.owner = this;
                c.group = g;
            }
            return c.ints;
        }

        /**
         * Batches below this size run {@link #groupDot} per token on repacked rows. Measured (KernelAb, 8960 x 1536,
         * two threads) against decoding rows for the tiles: Q4_K 0.34-0.65x the time at 4 to 32 tokens, 1.46x at 64.
         */
        int perTokenBelow() {
            return LANES_BATCH;
        }

        /** Rows [0, groupRows()) are also repacked in groups of L ({@link #packed}); 0 when none are. */
        final int groupRows() {
            return packedRows;
        }

        /** Group g's L rows times token t into {@code out[o .. o + L)}: {@link #smallBatchDot}'s operations. */
        void groupDot(int g, Activations x, int t, float[] out, int o) {
            throw new IllegalStateException(type + " is not repacked");
        }

        /** L signed bytes of {@link #packed} at p as floats (the repacked scales and mins). */
        final FloatVector smallInts(long p) {
            return (FloatVector) ((IntVector) ByteVector.fromMemorySegment(B128, packed, p, Kernels.LE)
                    .convertShape(VectorOperators.B2I, I512, 0)).convert(VectorOperators.I2F, 0);
        }

        /**
         * hsum_float_8's tree over a group's eight lane accumulators ({@code a[L k ..]} for llama.cpp's lane k), lane
         * for lane, to {@code out[o .. o + L)}: {@code ((a4 + a0) + (a6 + a2)) + ((a5 + a1) + (a7 + a3))}. Arrays in
         * and out, so that nothing is boxed if C2 does not inline it.
         */
        static void hsumGroup(float[] a, float[] out, int o) {
            FloatVector.fromArray(F, a, 4 * L).add(FloatVector.fromArray(F, a, 0))
                    .add(FloatVector.fromArray(F, a, 6 * L).add(FloatVector.fromArray(F, a, 2 * L)))
                    .add(FloatVector.fromArray(F, a, 5 * L).add(FloatVector.fromArray(F, a, L))
                            .add(FloatVector.fromArray(F, a, 7 * L).add(FloatVector.fromArray(F, a, 3 * L))))
                    .intoArray(out, o);
        }

        /** Adds group g's min term for token t after {@link #groupDot} (types with minimums). */
        void addGroupMins(int g, Activations x, int t, float[] out, int o) {
        }

        /**
         * Row {@code row} of a repacked group decoded to s as {@link #decodeScaled} decodes it from the mapped bytes,
         * and (when {@code next} is not null; row even) row + 1 to next, from the same gathers.
         */
        void decodePacked(int row, Scaled s, Scaled next) {
            throw new IllegalStateException(type + " is not repacked");
        }

        /**
         * One to three tokens read each row straight from memory (decode steps are memory bound); larger batches
         * decode a row once and reuse it for every token. Both compute the same float operations in the same order.
         */
        @Override
        public void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
            int n = x.tokens();
            // repacked matrices run small batches per token too ({@link #perTokenBelow})
            if (n <= SMALL_BATCH || groupRows() > 0 && n < perTokenBelow()) {
                // repacked groups inside the range one group at a time, rows outside them from the mapped bytes
                int packedRows = groupRows();
                int g0 = Math.min(packedRows, (rowFrom + L - 1) / L * L);
                int g1 = Math.max(g0, Math.min(packedRows, rowTo / L * L));
                for (int r = rowFrom; r < Math.min(rowTo, g0); r++) {
                    for (int t = 0; t < n; t++) {
                        out[t * outStride + r] = smallBatchDot(r, x, t);
                    }
                }
                for (int g = g0 / L; g < g1 / L; g++) {
                    for (int t = 0; t < n; t++) { // the group stays in the cache from one token to the next
                        groupDot(g, x, t, out, t * outStride + g * L);
                        addGroupMins(g, x, t, out, t * outStride + g * L);
                    }
                }
                for (int r = Math.max(rowFrom, g1); r < rowTo; r++) {
                    for (int t = 0; t < n; t++) {
                        out[t * outStride + r] = smallBatchDot(r, x, t);
                    }
                }
                return;
            }
            // tiles of rows decoded once, then four tokens at a time for every row of the tile: the tokens'
            // activations (a whole prompt's take 10 MB at 4864 columns) are read from memory once per tile, not once
            // per row
            Scaled[] tl = tile(cols);
            LaneScratch ls = x.hasLanes() && (n >= LANES_BATCH || n >= LANES_SMALL && n <= 16) && L == 16
                    ? LANE_SCRATCH.get() : null;
            if (ls != null) {
                ls.ensure(cols);
            }
            for (int r0 = rowFrom; r0 < rowTo; r0 += TILE_ROWS) {
                int rows = Math.min(TILE_ROWS, rowTo - r0);
                for (int k = 0; k < rows; k++) {
                    int row = r0 + k;
                    if (row % 2 == 0 && k + 1 < rows && row + 1 < groupRows()) { // a repacked row pair shares gathers
                        decodePacked(row, tl[k], tl[k + 1]);
                        k++;
                    } else {
                        decodeScaled(row, tl[k]);
                    }
                }
                if (ls != null) { // tokens in the lanes
                    int groups = (n + 15) / 16;
                    int quads = rows / 4 * 4;
                    int tg = 0;
                    // three groups per tile; two left over still take lanes4x3 (one repeated), which ran faster
                    // than a two-group tile; one left over takes lanes4x1. Every four rows of the tile take the same
                    // groups and SPAN super-blocks one after the other, so that those activations come from the
                    // cache after the first
                    int nb = cols / 256;
                    for (; tg + 1 < groups; tg += 3) {
                        for (int b0 = 0; b0 < nb; b0 += SPAN) {
                            for (int k = 0; k < quads; k += 4) {
                                lanes4x3(tl, k, ls, x, tg, groups - 1, r0, out, outStride, b0, Math.min(nb, b0 + SPAN));
                            }
                        }
                    }
                    if (tg < groups) {
                        for (int b0 = 0; b0 < nb; b0 += SPAN) {
                            for (int k = 0; k < quads; k += 4) {
                                lanes4x1(tl, k, ls, x, tg, r0, out, outStride, b0, Math.min(nb, b0 + SPAN));
                            }
                        }
                    }
                    for (int k = quads; k < rows; k++) {
                        for (int t = 0; t < n; t++) {
                            out[t * outStride + r0 + k] = dotScaled(tl[k], x, t);
                        }
                    }
                    continue;
                }
                int t = 0;
                for (; t + 4 <= n; t += 4) {
                    int k = 0;
                    for (; k + 2 <= rows; k += 2) {
                        lanes2x4(tl[k], tl[k + 1], x, t);
                    }
                    if (k < rows) {
                        lanes4(tl[k], x, t);
                    }
                    for (k = 0; k < rows; k++) {
                        Scaled s = tl[k];
                        for (int j = 0; j < 4; j++) {
                            int go = (t + j) * (cols / 32);
                            out[(t + j) * outStride + r0 + k] = finish(s, s.lanes4, 32 * j, x, go, cols / 256);
                        }
                    }
                }
                for (; t < n; t++) {
                    for (int k = 0; k < rows; k++) {
                        out[t * outStride + r0 + k] = dotScaled(tl[k], x, t);
                    }
                }
            }
        }

        /** Floats of one four-row tile's lane chains: 8 lanes by 4 rows by 3 token groups of 16. */
        private static final int QUAD_SUMS = 8 * 12 * 16;
        /**
         * Super-blocks per span: a batch's tiles run their token groups span by span, every four rows of the tile
         * over the same span in turn, so that the span's activations (3 groups x 1024 columns: 192 KiB) are read from
         * memory once per tile instead of once per four rows; wide rows (8960 columns) streamed 1.7 MB per four rows.
         */
        private static final int SPAN = 4;
        /** Batches from this size on take {@link #lanes4x3} (three groups of 16 tokens per tile). */
        static final int LANES_BATCH = 33;
        /**
         * Batches of this many to 16 tokens take {@link #lanes4x1} (one group, some lanes empty). Alternated in one
         * process against the kernels before (0.5B-shaped Q4_K_M, two threads): 9 tokens 52.6 -> 59.0 tok/s (new
         * faster in 9 of 10 rounds), 12: 68.9 -> 71.2 (7/10), 16: 89.5 -> 101.2 (10/10); 6 tokens ran 9 % slower
         * (0/10), and 24 as lanes4x3 with a repeated group or as two lanes4x1 was no faster (2/10, 3/10).
         */
        static final int LANES_SMALL = 9;
        private static final ThreadLocal<LaneScratch> LANE_SCRATCH = ThreadLocal.withInitial(LaneScratch::new);

        /** Per-thread buffers of {@link #lanes4x3}, shared by all K-quant matrices (sized for the widest). */
        private static final class LaneScratch {
            float[] products = new float[0];
            /** Per four rows of the tile, their lane chains ({@link #lanes4x3}), carried from one span to the next. */
            final float[] sums = new float[TILE_ROWS / 4 * QUAD_SUMS];
            final float[] mins = new float[16];

            void ensure(int cols) {
                if (products.length < cols / 256 * 12 * 16) {
                    products = new float[cols / 256 * 12 * 16];
                }
            }
        }

        /**
         * Decoded rows k0..k0+3 of the tile times token groups tg, tg + 1 and tg + 2 (groups past {@code lastGroup}
         * repeat it; their results are not written), the tokens in the lanes ({@link Activations#lanes}), with
         * {@link #dotScaled}'s operations per token: for each lane k of llama.cpp's eight (positions 4k..4k+3 of every
         * 32), the exact sum of the super-block's 32 products, then {@code acc_k = fma(sum, d_x * d_w, acc_k)} along
         * the super-blocks, and {@link #finish}. One lane k at a time keeps twelve sums and twelve accumulators in
         * registers; the twelve {@code d_x * d_w} of each super-block are computed once before. Written out in full:
         * C2 boxes vectors passed to helpers it does not inline. Runs super-blocks [from, to) (a span): the chains
         * start from zero at the first span and are carried in {@code s.sums} (this quad's part) to the next; the
         * last span finishes them.
         */
        private void lanes4x3(Scaled[] tl, int k0, LaneScratch s, Activations x, int tg, int lastGroup, int r0,
                float[] out, int outStride, int from, int to) {
            float[] q0 = tl[k0].q, q1 = tl[k0 + 1].q, q2 = tl[k0 + 2].q, q3 = tl[k0 + 3].q;
            float[] dd = s.products;
            float[] xl = x.lanes;
            float[] dl = x.laneScales;
            int blocks = cols / 32;
            int nb = cols / 256;
            int g1 = Math.min(tg + 1, lastGroup), g2 = Math.min(tg + 2, lastGroup);
            int xo = tg * cols * 16, yo = g1 * cols * 16, zo = g2 * cols * 16;
            int xb = tg * blocks * 16, yb = g1 * blocks * 16, zb = g2 * blocks * 16;
            for (int b = from; b < to; b++) {
                FloatVector dx = FloatVector.fromArray(F512, dl, xb + 128 * b);
                FloatVector dy = FloatVector.fromArray(F512, dl, yb + 128 * b);
                FloatVector dz = FloatVector.fromArray(F512, dl, zb + 128 * b);
                for (int k = 0; k < 4; k++) {
                    float w = tl[k0 + k].d[b];
                    int o = 192 * b + 48 * k;
                    dx.mul(w).intoArray(dd, o);
                    dy.mul(w).intoArray(dd, o + 16);
                    dz.mul(w).intoArray(dd, o + 32);
                }
            }
            float[] sums = s.sums;
            int so = k0 / 4 * QUAD_SUMS; // this quad's chains: zero before the first span, carried to the next
            if (from == 0) {
                java.util.Arrays.fill(sums, so, so + QUAD_SUMS, 0f);
            }
            for (int lane = 0; lane < 8; lane++) {
                FloatVector z = FloatVector.zero(F512);
                int lo = so + 192 * lane;
                FloatVector a0 = FloatVector.fromArray(F512, sums, lo);
                FloatVector b0 = FloatVector.fromArray(F512, sums, lo + 16);
                FloatVector c0 = FloatVector.fromArray(F512, sums, lo + 32);
                FloatVector a1 = FloatVector.fromArray(F512, sums, lo + 48);
                FloatVector b1 = FloatVector.fromArray(F512, sums, lo + 64);
                FloatVector c1 = FloatVector.fromArray(F512, sums, lo + 80);
                FloatVector a2 = FloatVector.fromArray(F512, sums, lo + 96);
                FloatVector b2 = FloatVector.fromArray(F512, sums, lo + 112);
                FloatVector c2 = FloatVector.fromArray(F512, sums, lo + 128);
                FloatVector a3 = FloatVector.fromArray(F512, sums, lo + 144);
                FloatVector b3 = FloatVector.fromArray(F512, sums, lo + 160);
                FloatVector c3 = FloatVector.fromArray(F512, sums, lo + 176);
                for (int b = from; b < to; b++) {
                    FloatVector s0 = z, s1 = z, s2 = z, s3 = z, t0 = z, t1 = z, t2 = z, t3 = z, u0 = z, u1 = z, u2 = z,
                            u3 = z;
                    for (int sub = 0; sub < 8; sub++) {
                        int e0 = 256 * b + 32 * sub + 4 * lane;
                        for (int e = e0; e < e0 + 4; e++) {
                            FloatVector xv = FloatVector.fromArray(F512, xl, xo + 16 * e);
                            FloatVector yv = FloatVector.fromArray(F512, xl, yo + 16 * e);
                            FloatVector zv = FloatVector.fromArray(F512, xl, zo + 16 * e);
                            FloatVector v = FloatVector.broadcast(F512, q0[e]);
                            s0 = xv.fma(v, s0);
                            t0 = yv.fma(v, t0);
                            u0 = zv.fma(v, u0);
                            v = FloatVector.broadcast(F512, q1[e]);
                            s1 = xv.fma(v, s1);
                            t1 = yv.fma(v, t1);
                            u1 = zv.fma(v, u1);
                            v = FloatVector.broadcast(F512, q2[e]);
                            s2 = xv.fma(v, s2);
                            t2 = yv.fma(v, t2);
                            u2 = zv.fma(v, u2);
                            v = FloatVector.broadcast(F512, q3[e]);
                            s3 = xv.fma(v, s3);
                            t3 = yv.fma(v, t3);
                            u3 = zv.fma(v, u3);
                        }
                    }
                    int o = 192 * b;
                    a0 = s0.fma(FloatVector.fromArray(F512, dd, o), a0);
                    b0 = t0.fma(FloatVector.fromArray(F512, dd, o + 16), b0);
                    c0 = u0.fma(FloatVector.fromArray(F512, dd, o + 32), c0);
                    a1 = s1.fma(FloatVector.fromArray(F512, dd, o + 48), a1);
                    b1 = t1.fma(FloatVector.fromArray(F512, dd, o + 64), b1);
                    c1 = u1.fma(FloatVector.fromArray(F512, dd, o + 80), c1);
                    a2 = s2.fma(FloatVector.fromArray(F512, dd, o + 96), a2);
                    b2 = t2.fma(FloatVector.fromArray(F512, dd, o + 112), b2);
                    c2 = u2.fma(FloatVector.fromArray(F512, dd, o + 128), c2);
                    a3 = s3.fma(FloatVector.fromArray(F512, dd, o + 144), a3);
                    b3 = t3.fma(FloatVector.fromArray(F512, dd, o + 160), b3);
                    c3 = u3.fma(FloatVector.fromArray(F512, dd, o + 176), c3);
                }
                a0.intoArray(sums, lo);
                b0.intoArray(sums, lo + 16);
                c0.intoArray(sums, lo + 32);
                a1.intoArray(sums, lo + 48);
                b1.intoArray(sums, lo + 64);
                c1.intoArray(sums, lo + 80);
                a2.intoArray(sums, lo + 96);
                b2.intoArray(sums, lo + 112);
                c2.intoArray(sums, lo + 128);
                a3.intoArray(sums, lo + 144);
                b3.intoArray(sums, lo + 160);
                c3.intoArray(sums, lo + 176);
            }
            if (to < nb) {
                return;
            }
            int n = x.tokens();
            float[] mins = s.mins;
            for (int k = 0; k < 4; k++) {
                for (int j = 0; j < 3 && tg + j <= lastGroup; j++) {
                    int c = 48 * k + 16 * j;
                    laneMinTerms(tl[k0 + k], x, tg + j, mins);
                    for (int h = 0, t = (tg + j) * 16; h < 16 && t < n; h++, t++) {
                        int i = so + c + h;
                        // finish's hsum_float_8 (lane k of llama.cpp's eight at sums[192 k + i]), then the min term
                        float total = ((sums[i + 768] + sums[i]) + (sums[i + 1152] + sums[i + 384]))
                                + ((sums[i + 960] + sums[i + 192]) + (sums[i + 1344] + sums[i + 576]));
                        out[t * outStride + r0 + k0 + k] = minTerm == MinTerm.NONE ? total : total + mins[h];
                    }
                }
            }
        }

        /**
         * {@link #lanes4x3} for one token group: batches of {@link #LANES_SMALL} to 16 tokens, and a prompt's last
         * group when it is alone after the tiles of three, which lanes4x3 would compute three times over (its groups
         * past the last repeat it).
         */
        private void lanes4x1(Scaled[] tl, int k0, LaneScratch s, Activations x, int tg, int r0, float[] out,
                int outStride, int from, int to) {
            float[] q0 = tl[k0].q, q1 = tl[k0 + 1].q, q2 = tl[k0 + 2].q, q3 = tl[k0 + 3].q;
            float[] dd = s.products;
            float[] xl = x.lanes;
            float[] dl = x.laneScales;
            int blocks = cols / 32;
            int nb = cols / 256;
            int xo = tg * cols * 16;
            int xb = tg * blocks * 16;
            for (int b = from; b < to; b++) {
                FloatVector dx = FloatVector.fromArray(F512, dl, xb + 128 * b);
                for (int k = 0; k < 4; k++) {
                    float w = tl[k0 + k].d[b];
                    dx.mul(w).intoArray(dd, 64 * b + 16 * k);
                }
            }
            float[] sums = s.sums;
            int so = k0 / 4 * QUAD_SUMS; // as lanes4x3's
            if (from == 0) {
                java.util.Arrays.fill(sums, so, so + 512, 0f);
            }
            for (int lane = 0; lane < 8; lane++) {
                FloatVector z = FloatVector.zero(F512);
                int lo = so + 64 * lane;
                FloatVector a0 = FloatVector.fromArray(F512, sums, lo);
                FloatVector a1 = FloatVector.fromArray(F512, sums, lo + 16);
                FloatVector a2 = FloatVector.fromArray(F512, sums, lo + 32);
                FloatVector a3 = FloatVector.fromArray(F512, sums, lo + 48);
                for (int b = from; b < to; b++) {
                    FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
                    for (int sub = 0; sub < 8; sub++) {
                        int e0 = 256 * b + 32 * sub + 4 * lane;
                        for (int e = e0; e < e0 + 4; e++) {
                            FloatVector xv = FloatVector.fromArray(F512, xl, xo + 16 * e);
                            FloatVector v = FloatVector.broadcast(F512, q0[e]);
                            s0 = xv.fma(v, s0);
                            v = FloatVector.broadcast(F512, q1[e]);
                            s1 = xv.fma(v, s1);
                            v = FloatVector.broadcast(F512, q2[e]);
                            s2 = xv.fma(v, s2);
                            v = FloatVector.broadcast(F512, q3[e]);
                            s3 = xv.fma(v, s3);
                        }
                    }
                    int o = 64 * b;
                    a0 = s0.fma(FloatVector.fromArray(F512, dd, o), a0);
                    a1 = s1.fma(FloatVector.fromArray(F512, dd, o + 16), a1);
                    a2 = s2.fma(FloatVector.fromArray(F512, dd, o + 32), a2);
                    a3 = s3.fma(FloatVector.fromArray(F512, dd, o + 48), a3);
                }
                a0.intoArray(sums, lo);
                a1.intoArray(sums, lo + 16);
                a2.intoArray(sums, lo + 32);
                a3.intoArray(sums, lo + 48);
            }
            if (to < nb) {
                return;
            }
            int n = x.tokens();
            float[] mins = s.mins;
            // one exit test: whole and partial groups take the same branches (no trap for the kind warm-up skipped)
            int m = Math.min(16, n - tg * 16);
            for (int k = 0; k < 4; k++) {
                laneMinTerms(tl[k0 + k], x, tg, mins);
                for (int h = 0, t = tg * 16; h < m; h++, t++) {
                    int i = so + 16 * k + h;
                    // finish's hsum_float_8 (lane k of llama.cpp's eight at sums[64 k + i]), then the min term
                    float total = ((sums[i + 256] + sums[i]) + (sums[i + 384] + sums[i + 128]))
                            + ((sums[i + 320] + sums[i + 64]) + (sums[i + 448] + sums[i + 192]));
                    out[t * outStride + r0 + k0 + k] = minTerm == MinTerm.NONE ? total : total + mins[h];
                }
            }
        }

        /**
         * {@link #minsFourLanes} (Q4_K) or {@link #minsScalar} (Q5_K) of row s for the 16 tokens of group g, one per
         * lane, to {@code into[0..16)}: the same operations lane for lane (the products and sums of integers are exact;
         * {@link Activations#laneSums} hold 8 times the block sums, scaled back exactly).
         */
        private void laneMinTerms(Scaled s, Activations x, int g, float[] into) {
            if (minTerm == MinTerm.NONE) {
                return;
            }
            float[] dl = x.laneScales;
            float[] sl = x.laneSums;
            float[] m = s.mins;
            int blocks = cols / 32;
            int go = g * blocks * 16;
            FloatVector z = FloatVector.zero(F512);
            FloatVector m0 = z, m1 = z, m2 = z, m3 = z;
            for (int b = 0; b < cols / 256; b++) {
                int o = 8 * b;
                int lo = go + 16 * o;
                FloatVector dm = FloatVector.fromArray(F512, dl, lo).neg().mul(s.dmin[b]);
                FloatVector b0 = FloatVector.fromArray(F512, sl, lo).mul(0.125f);
                FloatVector b1 = FloatVector.fromArray(F512, sl, lo + 16).mul(0.125f);
                FloatVector b2 = FloatVector.fromArray(F512, sl, lo + 32).mul(0.125f);
                FloatVector b3 = FloatVector.fromArray(F512, sl, lo + 48).mul(0.125f);
                FloatVector b4 = FloatVector.fromArray(F512, sl, lo + 64).mul(0.125f);
                FloatVector b5 = FloatVector.fromArray(F512, sl, lo + 80).mul(0.125f);
                FloatVector b6 = FloatVector.fromArray(F512, sl, lo + 96).mul(0.125f);
                FloatVector b7 = FloatVector.fromArray(F512, sl, lo + 112).mul(0.125f);
                if (minTerm == MinTerm.FOUR_LANES) {
                    m0 = dm.fma(b0.mul(m[o]).add(b1.mul(m[o + 1])), m0);
                    m1 = dm.fma(b2.mul(m[o + 2]).add(b3.mul(m[o + 3])), m1);
                    m2 = dm.fma(b4.mul(m[o + 4]).add(b5.mul(m[o + 5])), m2);
                    m3 = dm.fma(b6.mul(m[o + 6]).add(b7.mul(m[o + 7])), m3);
                } else {
                    FloatVector total = b0.mul(m[o]).add(b1.mul(m[o + 1])).add(b2.mul(m[o + 2])).add(b3.mul(m[o + 3]))
                            .add(b4.mul(m[o + 4])).add(b5.mul(m[o + 5])).add(b6.mul(m[o + 6])).add(b7.mul(m[o + 7]));
                    m0 = dm.fma(total, m0);
                }
            }
            (minTerm == MinTerm.FOUR_LANES ? m0.add(m2).add(m1.add(m3)) : m0).intoArray(into, 0);
        }

        /**
         * One token of a batch of at most three, straight from the mapped bytes (decode steps are memory bound): the
         * same float operations as {@link #dotScaled} on the decoded row.
         */
        abstract float smallBatchDot(int row, Activations x, int t);

        private float dotScaled(Scaled s, Activations x, int t) {
            float[] q = s.q;
            float[] y = x.f;
            float[] yd = x.d;
            int yo = t * cols;
            int go = t * (cols / 32);
            int nb = cols / 256;
            float[] a = s.lanes;
            for (int v = 0; v < 32; v += L) { // one slice of positions at a time: its lanes' FMAs are independent
                FloatVector acc = FloatVector.zero(F);
                for (int b = 0; b < nb; b++) {
                    int base = 256 * b + v;
                    FloatVector sum = FloatVector.zero(F);
                    for (int r = 0; r < 256; r += 32) {
                        sum = FloatVector.fromArray(F, q, base + r).fma(FloatVector.fromArray(F, y, yo + base + r), sum);
                    }
                    sum = sum.add(sum.rearrange(PAIR));
                    sum = sum.add(sum.rearrange(QUAD));
                    acc = sum.fma(FloatVector.broadcast(F, yd[go + 8 * b] * s.d[b]), acc);
                }
                acc.intoArray(a, v);
            }
            return finish(s, s.lanes, 0, x, go, nb);
        }

        /**
         * {@link #lanes4} for two decoded rows at once (to each row's {@code lanes4}): each activation vector is
         * loaded once for both rows. Per row and token, the same operations in the same order.
         */
        private void lanes2x4(Scaled s, Scaled u, Activations x, int t) {
            float[] q = s.q, w = u.q;
            float[] y = x.f;
            float[] yd = x.d;
            int y0 = t * cols, y1 = y0 + cols, y2 = y1 + cols, y3 = y2 + cols;
            int per = cols / 32;
            int g0 = t * per, g1 = g0 + per, g2 = g1 + per, g3 = g2 + per;
            int nb = cols / 256;
            float[] a = s.lanes4, c = u.lanes4;
            for (int v = 0; v < 32; v += L) {
                FloatVector z = FloatVector.zero(F);
                FloatVector a0 = z, a1 = z, a2 = z, a3 = z, c0 = z, c1 = z, c2 = z, c3 = z;
                for (int b = 0; b < nb; b++) {
                    int base = 256 * b + v;
                    FloatVector p0 = z, p1 = z, p2 = z, p3 = z, r0 = z, r1 = z, r2 = z, r3 = z;
                    for (int r = 0; r < 256; r += 32) {
                        FloatVector qv = FloatVector.fromArray(F, q, base + r);
                        FloatVector wv = FloatVector.fromArray(F, w, base + r);
                        FloatVector x0 = FloatVector.fromArray(F, y, y0 + base + r);
                        FloatVector x1 = FloatVector.fromArray(F, y, y1 + base + r);
                        FloatVector x2 = FloatVector.fromArray(F, y, y2 + base + r);
                        FloatVector x3 = FloatVector.fromArray(F, y, y3 + base + r);
                        p0 = qv.fma(x0, p0);
                        p1 = qv.fma(x1, p1);
                        p2 = qv.fma(x2, p2);
                        p3 = qv.fma(x3, p3);
                        r0 = wv.fma(x0, r0);
                        r1 = wv.fma(x1, r1);
                        r2 = wv.fma(x2, r2);
                        r3 = wv.fma(x3, r3);
                    }
                    p0 = p0.add(p0.rearrange(PAIR));
                    p1 = p1.add(p1.rearrange(PAIR));
                    p2 = p2.add(p2.rearrange(PAIR));
                    p3 = p3.add(p3.rearrange(PAIR));
                    r0 = r0.add(r0.rearrange(PAIR));
                    r1 = r1.add(r1.rearrange(PAIR));
                    r2 = r2.add(r2.rearrange(PAIR));
                    r3 = r3.add(r3.rearrange(PAIR));
                    float d0 = yd[g0 + 8 * b], d1 = yd[g1 + 8 * b], d2 = yd[g2 + 8 * b], d3 = yd[g3 + 8 * b];
                    float ds = s.d[b], du = u.d[b];
                    a0 = p0.add(p0.rearrange(QUAD)).fma(FloatVector.broadcast(F, d0 * ds), a0);
                    a1 = p1.add(p1.rearrange(QUAD)).fma(FloatVector.broadcast(F, d1 * ds), a1);
                    a2 = p2.add(p2.rearrange(QUAD)).fma(FloatVector.broadcast(F, d2 * ds), a2);
                    a3 = p3.add(p3.rearrange(QUAD)).fma(FloatVector.broadcast(F, d3 * ds), a3);
                    c0 = r0.add(r0.rearrange(QUAD)).fma(FloatVector.broadcast(F, d0 * du), c0);
                    c1 = r1.add(r1.rearrange(QUAD)).fma(FloatVector.broadcast(F, d1 * du), c1);
                    c2 = r2.add(r2.rearrange(QUAD)).fma(FloatVector.broadcast(F, d2 * du), c2);
                    c3 = r3.add(r3.rearrange(QUAD)).fma(FloatVector.broadcast(F, d3 * du), c3);
                }
                a0.intoArray(a, v);
                a1.intoArray(a, 32 + v);
                a2.intoArray(a, 64 + v);
                a3.intoArray(a, 96 + v);
                c0.intoArray(c, v);
                c1.intoArray(c, 32 + v);
                c2.intoArray(c, 64 + v);
                c3.intoArray(c, 96 + v);
            }
        }

        /**
         * {@link #dotScaled}'s 32 position accumulators for tokens t..t+3, to {@code s.lanes4[32 k ..)} for token
         * t + k: each vector of the decoded row is loaded once for four tokens, and per token the operations are the
         * same in the same order.
         */
        private void lanes4(Scaled s, Activations x, int t) {
            float[] q = s.q;
            float[] y = x.f;
            float[] yd = x.d;
            int y0 = t * cols, y1 = y0 + cols, y2 = y1 + cols, y3 = y2 + cols;
            int per = cols / 32;
            int g0 = t * per, g1 = g0 + per, g2 = g1 + per, g3 = g2 + per;
            int nb = cols / 256;
            float[] a = s.lanes4;
            for (int v = 0; v < 32; v += L) {
                FloatVector z = FloatVector.zero(F);
                FloatVector c0 = z, c1 = z, c2 = z, c3 = z;
                for (int b = 0; b < nb; b++) {
                    int base = 256 * b + v;
                    FloatVector p0 = z, p1 = z, p2 = z, p3 = z;
                    for (int r = 0; r < 256; r += 32) {
                        FloatVector qv = FloatVector.fromArray(F, q, base + r);
                        p0 = qv.fma(FloatVector.fromArray(F, y, y0 + base + r), p0);
                        p1 = qv.fma(FloatVector.fromArray(F, y, y1 + base + r), p1);
                        p2 = qv.fma(FloatVector.fromArray(F, y, y2 + base + r), p2);
                        p3 = qv.fma(FloatVector.fromArray(F, y, y3 + base + r), p3);
                    }
                    p0 = p0.add(p0.rearrange(PAIR));
                    p1 = p1.add(p1.rearrange(PAIR));
                    p2 = p2.add(p2.rearrange(PAIR));
                    p3 = p3.add(p3.rearrange(PAIR));
                    float d = s.d[b];
                    c0 = p0.add(p0.rearrange(QUAD)).fma(FloatVector.broadcast(F, yd[g0 + 8 * b] * d), c0);
                    c1 = p1.add(p1.rearrange(QUAD)).fma(FloatVector.broadcast(F, yd[g1 + 8 * b] * d), c1);
                    c2 = p2.add(p2.rearrange(QUAD)).fma(FloatVector.broadcast(F, yd[g2 + 8 * b] * d), c2);
                    c3 = p3.add(p3.rearrange(QUAD)).fma(FloatVector.broadcast(F, yd[g3 + 8 * b] * d), c3);
                }
                c0.intoArray(a, v);
                c1.intoArray(a, 32 + v);
                c2.intoArray(a, 64 + v);
                c3.intoArray(a, 96 + v);
            }
        }

        /** The fixed horizontal sum of the eight lanes (positions 0, 4, ..., 28 of a), then the minimum term. */
        float finish(Scaled s, float[] a, int o, Activations x, int go, int nb) {
            // hsum_float_8: halves added, then pairs, then the last two
            float total = ((a[o + 16] + a[o]) + (a[o + 24] + a[o + 8]))
                    + ((a[o + 20] + a[o + 4]) + (a[o + 28] + a[o + 12]));
            return switch (minTerm) {
                case NONE -> total;
                case FOUR_LANES -> total + minsFourLanes(s, x, go, nb);
                case SCALAR -> total + minsScalar(s, x, go, nb);
            };
        }

        /**
         * {@link #finish}'s hsum_float_8 of a 512-bit kernel's accumulator stored at {@code a} (llama.cpp's lane k in
         * lane 2k + 1). It takes the stored lanes, not the vector: a vector passed to a call C2 does not inline is
         * boxed, and this call was not always inlined.
         */
        static float hsumOddLanes(float[] a) {
            return ((a[9] + a[1]) + (a[13] + a[5])) + ((a[11] + a[3]) + (a[15] + a[7]));
        }

        /** Q4_K: lane l takes sub-blocks 2l and 2l + 1 of every super-block, FMAs with -d_x * dmin; pairs summed. */
        private static float minsFourLanes(Scaled s, Activations x, int go, int nb) {
            float[] bs = x.xsum;
            float[] m = s.mins;
            float m0 = 0f, m1 = 0f, m2 = 0f, m3 = 0f;
            for (int b = 0; b < nb; b++) {
                float dm = -x.d[go + 8 * b] * s.dmin[b];
                int o = 8 * b;
                int g = go + o;
                m0 = Math.fma(dm, m[o] * bs[g] + m[o + 1] * bs[g + 1], m0);
                m1 = Math.fma(dm, m[o + 2] * bs[g + 2] + m[o + 3] * bs[g + 3], m1);
                m2 = Math.fma(dm, m[o + 4] * bs[g + 4] + m[o + 5] * bs[g + 5], m2);
                m3 = Math.fma(dm, m[o + 6] * bs[g + 6] + m[o + 7] * bs[g + 7], m3);
            }
            return (m0 + m2) + (m1 + m3);
        }

        /** Q5_K: the super-block's integer sum of min * block sum, one (compiler-contracted) FMA each. */
        private static float minsScalar(Scaled s, Activations x, int go, int nb) {
            float[] bs = x.xsum;
            float[] m = s.mins;
            float summs = 0f;
            for (int b = 0; b < nb; b++) {
                float dm = -x.d[go + 8 * b] * s.dmin[b];
                int o = 8 * b;
                int g = go + o;
                float total = 0f; // integers: exact in any order
                for (int k = 0; k < 8; k++) {
                    total += m[o + k] * bs[g + k];
                }
                summs = Math.fma(dm, total, summs);
            }
            return summs;
        }
    }

    /** Q4_K and Q5_K: fp16 d, fp16 dmin, then 8 six-bit scales and mins packed in 12 bytes. */
    abstract static class PackedScalesAndMins extends KQuantMatrix {
        PackedScalesAndMins(GgmlType type, MemorySegment data, int rows, int cols, MinTerm minTerm,
                MemorySegment packed) {
            super(type, data, rows, cols, 32, minTerm, packed);
        }

        @Override
        protected int scale(long p, int s) {
            return Kernels.scaleK4(data, p + 4, s);
        }

        @Override
        protected int min(long p, int s) {
            return Kernels.minK4(data, p + 4, s);
        }

        @Override
        protected float d(long p) {
            return Kernels.f16(data, p);
        }

        @Override
        protected float dmin(long p) {
            return Kernels.f16(data, p + 2);
        }

        /**
         * The fused kernel's work on the super-block at p, straight from the mapped bytes: for each slice of L
         * positions, the sum over its 32-value runs of {@code (q * scale) * y} (exact), passed to {@link #accumulate}.
         * {@code sc} holds the block's integer scales.
         */
        protected abstract void fusedBlock(long p, float[] sc, float[] y, int yo, float dd, float[] acc);

        /** Straight from the mapped bytes (decode steps are memory bound): the same operations as the decoded path. */
        @Override
        float smallBatchDot(int row, Activations x, int t) {
            Scaled s = scaled.get();
            float[] a = s.lanes;
            java.util.Arrays.fill(a, 0, 32, 0f);
            long base = row * rowBytes;
            int yo = t * cols;
            int go = t * (cols / 32);
            int nb = cols / 256;
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * blockBytes;
                scalesAndMins(p, s.sc, s.mins, 8 * b);
                fusedBlock(p, s.sc, x.f, yo + 256 * b, x.d[go + 8 * b] * d(p), a);
                s.dmin[b] = dmin(p);
            }
            return finish(s, s.lanes, 0, x, go, nb);
        }

        /**
         * The super-block's eight 6-bit scales, byte k scale k, unpacked from the packed bytes 0-7 ({@code lo}) and
         * 8-11 ({@code hi}) with llama.cpp's word operations: a scale above 15 keeps its two high bits in the top of
         * byte k of the first word.
         */
        static long scales(long lo, int hi) {
            int u0 = (int) lo;
            return (u0 & 0x3F3F3F3FL) | (long) ((hi & 0x0F0F0F0F) | ((u0 >>> 2) & 0x30303030)) << 32;
        }

        /** {@link #scales}' eight mins, from the second word and the high nibbles of bytes 8-11. */
        static long mins(long lo, int hi) {
            int u1 = (int) (lo >>> 32);
            return (u1 & 0x3F3F3F3FL) | (long) (((hi >>> 4) & 0x0F0F0F0F) | ((u1 >>> 2) & 0x30303030)) << 32;
        }

        /**
         * The super-block's eight 6-bit scales into {@code sc[0..8)} and mins into {@code mins[mo..mo + 8)}, from its
         * 12 packed bytes read with two loads ({@link #scale}/{@link #min} read one or two bytes per value: in the
         * decode loop those checked single-byte reads took as many samples as the vector work).
         */
        final void scalesAndMins(long p, float[] sc, float[] mins, int mo) {
            long lo = data.get(Kernels.LONG, p + 4); // bytes 0-7 of the 12
            int hi = data.get(Kernels.INT, p + 12); // bytes 8-11
            long scales = scales(lo, hi);
            long ms = mins(lo, hi);
            for (int k = 0; k < 8; k++) {
                sc[k] = scales >>> 8 * k & 0xFF;
                mins[mo + k] = ms >>> 8 * k & 0xFF;
            }
        }

        /**
         * d, dmin and the mins of repacked super-block b (at p; {@link Q4KRowGroups}, the same places for Q4_K and
         * Q5_K) for row k0 of its group into s and, when {@code next} is not null, row k0 + 1 into next.
         */
        final void packedHeads(long p, int b, int k0, Scaled s, Scaled next) {
            for (int h = 0; h < (next == null ? 1 : 2); h++) {
                Scaled t = h == 0 ? s : next;
                int k = k0 + h;
                t.d[b] = packed.get(Kernels.FLOAT, p + Q4KRowGroups.D + 4 * k);
                t.dmin[b] = packed.get(Kernels.FLOAT, p + Q4KRowGroups.DMIN + 4 * k);
                for (int sub = 0; sub < 8; sub++) {
                    t.mins[8 * b + sub] = packed.get(ValueLayout.JAVA_BYTE, p + Q4KRowGroups.MINS + L * sub + k);
                }
            }
        }
    }

    /** Q4_K: fp16 d, fp16 dmin, 12 bytes scales/mins, 128 bytes nibbles. */
    static final class Q4_K extends PackedScalesAndMins {
        /** With {@code repack} (and 16-lane vectors) whole groups of 16 rows are repacked ({@link Q4KRowGroups}). */
        Q4_K(MemorySegment data, int rows, int cols, boolean repack) {
            super(GgmlType.Q4_K, data, rows, cols, MinTerm.FOUR_LANES,
                    repack && WIDE && L == 16 ? Q4KRowGroups.interleave(data, rows, cols / 256) : null);
        }

        /**
         * {@link #smallBatchDot} for the L rows of group g at once, one row per lane: for each of llama.cpp's eight
         * lanes k (positions 4k..4k+3 of every 32 values) and each pair of sub-blocks, two loads give those four
         * positions of both sub-blocks for all L rows; the nibbles are multiplied in 16-bit lanes by the broadcast
         * activation pairs (two products added: at most 2 * 15 * 127), the two halves of each 32-bit lane added as
         * ints, and the sub-block sums scaled and summed in float lanes (exact integers below 2^22, as in
         * smallBatchDot). Then the same {@code fma(isum_k, d_x * d_w, acc_k)} per row, the same four min lanes, and
         * hsum_float_8's tree lane for lane ({@link #addGroupMins} adds the min term): the same bits as
         * smallBatchDot. The eight accumulators live in
         * {@code s.group} (a load and a store per 512 weights) rather than in registers, with the super-block's
         * scales converted once beside them, so that one loop over k serves all eight.
         */
        @Override
        void groupDot(int g, Activations x, int t, float[] out, int o) {
            float[] a = scaled.get().group; // accumulator k at 16 k, scale of sub-block s at 128 + 16 s
            java.util.Arrays.fill(a, 0, 8 * L, 0f);
            int[] xp = x.pairs16();
            float[] xd = x.d;
            int xo = t * (cols / 2);
            int go = t * (cols / 32);
            int nb = cols / 256;
            long base = (long) g * nb * Q4KRowGroups.BLOCK;
            FloatVector z = FloatVector.zero(F);
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * Q4KRowGroups.BLOCK;
                float dx = xd[go + 8 * b];
                for (int sub = 0; sub < 8; sub++) {
                    smallInts(p + Q4KRowGroups.SCALES + (long) L * sub).intoArray(a, 8 * L + L * sub);
                }
                FloatVector dd = FloatVector.fromMemorySegment(F, packed, p + Q4KRowGroups.D, Kernels.LE).mul(dx);
                long q = p + Q4KRowGroups.QUANTS;
                int xb = xo + 128 * b; // pair index of the super-block's element 0
                for (int k = 0; k < 8; k++) {
                    FloatVector sumLo = z, sumHi = z;
                    for (int i = 0; i < 4; i++) {
                        long qi = q + 4L * L * (4 * k + i); // bytes 4k, 4k + 1, then 4k + 2, 4k + 3
                        ShortVector w0 = RowGroups.pairBytes(packed, qi);
                        ShortVector w1 = RowGroups.pairBytes(packed, qi + 2 * L);
                        int xi = xb + 32 * i + 2 * k; // sub-block 2i's pairs; 2i + 1's are 16 further
                        IntVector lo = w0.and((short) 0xF).mul(RowGroups.broadcastPair(xp[xi]))
                                .add(w1.and((short) 0xF).mul(RowGroups.broadcastPair(xp[xi + 1]))).reinterpretAsInts();
                        IntVector hi = w0.lanewise(VectorOperators.LSHR, 4).mul(RowGroups.broadcastPair(xp[xi + 16]))
                                .add(w1.lanewise(VectorOperators.LSHR, 4).mul(RowGroups.broadcastPair(xp[xi + 17])))
                                .reinterpretAsInts();
                        // (v + (v << 16)) >> 16 in an int lane: the sum of its two 16-bit sums
                        lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                        hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                        sumLo = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.fromArray(F, a, 8 * L + 2 * L * i), sumLo);
                        sumHi = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.fromArray(F, a, 9 * L + 2 * L * i), sumHi);
                    }
                    sumLo.add(sumHi).fma(dd, FloatVector.fromArray(F, a, L * k)).intoArray(a, L * k);
                }
            }
            hsumGroup(a, out, o); // the min term follows in addGroupMins
        }

        /**
         * {@link #smallBatchDot}'s min term for group g's L rows and token t, added to {@code out[o .. o + L)}: the
         * four lanes of minsFourLanes, then their sum. A pass of its own, as {@link RowGroupMatrix}'s minimum chains:
         * inside groupDot its conversions grew the method past what C2 inlines, and every vector was boxed (6.7x
         * slower).
         */
        @Override
        void addGroupMins(int g, Activations x, int t, float[] out, int o) {
            float[] mins = scaled.get().groupMins; // one super-block's mins, sub-block s at L s
            float[] xd = x.d;
            float[] bs = x.xsum;
            int go = t * (cols / 32);
            int nb = cols / 256;
            long base = (long) g * nb * Q4KRowGroups.BLOCK;
            FloatVector z = FloatVector.zero(F);
            FloatVector m0 = z, m1 = z, m2 = z, m3 = z;
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * Q4KRowGroups.BLOCK;
                int gi = go + 8 * b;
                // min 2l * bsum 2l + min 2l+1 * bsum 2l+1 (exact integers), FMA'd into lane l with -d_x * dmin; the
                // mins converted in a loop first (eight conversions written out stopped C2's inlining again)
                for (int sub = 0; sub < 8; sub++) {
                    smallInts(p + Q4KRowGroups.MINS + (long) L * sub).intoArray(mins, L * sub);
                }
                FloatVector dm = FloatVector.fromMemorySegment(F, packed, p + Q4KRowGroups.DMIN, Kernels.LE).mul(-xd[gi]);
                m0 = dm.fma(FloatVector.fromArray(F, mins, 0).mul(bs[gi])
                        .add(FloatVector.fromArray(F, mins, L).mul(bs[gi + 1])), m0);
                m1 = dm.fma(FloatVector.fromArray(F, mins, 2 * L).mul(bs[gi + 2])
                        .add(FloatVector.fromArray(F, mins, 3 * L).mul(bs[gi + 3])), m1);
                m2 = dm.fma(FloatVector.fromArray(F, mins, 4 * L).mul(bs[gi + 4])
                        .add(FloatVector.fromArray(F, mins, 5 * L).mul(bs[gi + 5])), m2);
                m3 = dm.fma(FloatVector.fromArray(F, mins, 6 * L).mul(bs[gi + 6])
                        .add(FloatVector.fromArray(F, mins, 7 * L).mul(bs[gi + 7])), m3);
            }
            FloatVector.fromArray(F, out, o).add(m0.add(m2).add(m1.add(m3))).intoArray(out, o);
        }


        /** Int index of pair m (bytes 2m, 2m + 1) of a row pair's first sub-block pair, in a block's quants. */
        static final int[] PAIR_INTS = new int[L];

        static {
            for (int m = 0; m < L; m++) {
                PAIR_INTS[m] = Q4KRowGroups.quant(0, 2 * m, 0) / 4;
            }
        }

        /**
         * Row {@code row} (and row + 1, see {@link KQuantMatrix#decodePacked}) from its group's copy
         * ({@link #groupInts}): per pair of sub-blocks, one gather of the 16 ints that hold the byte pairs of the row
         * and its neighbour, each row's pair moved to 16-bit lanes in element order, its low and high nibbles (the two
         * sub-blocks) widened to floats and multiplied by their scales, as decodeScaled's vector decoding and
         * multiply. Byte by byte, the decoding cost 1.1-1.3x the time of a 64-96-token batch.
         */
        @Override
        void decodePacked(int row, Scaled s, Scaled next) {
            int nb = cols / 256;
            int g = row / L;
            int k0 = row % L;
            int count = next == null ? 1 : 2;
            int blockInts = Q4KRowGroups.BLOCK / 4;
            int[] ints = groupInts(g, Q4KRowGroups.BLOCK);
            long base = (long) g * nb * Q4KRowGroups.BLOCK;
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * Q4KRowGroups.BLOCK;
                packedHeads(p, b, k0, s, next);
                for (int i = 0; i < 4; i++) {
                    IntVector v = IntVector.fromArray(I512, ints, b * blockInts + Q4KRowGroups.QUANTS / 4 + L * i + k0 / 2,
                            PAIR_INTS, 0);
                    int e = 256 * b + 64 * i;
                    for (int h = 0; h < count; h++) {
                        int k = k0 + h;
                        float[] q = (h == 0 ? s : next).q;
                        float lo = packed.get(ValueLayout.JAVA_BYTE, p + Q4KRowGroups.SCALES + L * 2 * i + k);
                        float hi = packed.get(ValueLayout.JAVA_BYTE, p + Q4KRowGroups.SCALES + L * (2 * i + 1) + k);
                        // the row's two bytes (the low or high half of each int) to lane m: byte 2m in bits 0-7, byte
                        // 2m + 1 in bits 16-23, so 16-bit lane j holds byte j
                        IntVector u = v.lanewise(VectorOperators.LSHR, 16 * (k % 2));
                        IntVector w = u.and(0xFF).or(u.and(0xFF00).lanewise(VectorOperators.LSHL, 8));
                        ShortVector low = w.and(0x000F000F).reinterpretAsShorts();
                        ShortVector high = w.lanewise(VectorOperators.LSHR, 4).and(0x000F000F).reinterpretAsShorts();
                        ((FloatVector) ((IntVector) low.convertShape(VectorOperators.S2I, I512, 0))
                                .convert(VectorOperators.I2F, 0)).mul(lo).intoArray(q, e);
                        ((FloatVector) ((IntVector) low.convertShape(VectorOperators.S2I, I512, 1))
                                .convert(VectorOperators.I2F, 0)).mul(lo).intoArray(q, e + 16);
                        ((FloatVector) ((IntVector) high.convertShape(VectorOperators.S2I, I512, 0))
                                .convert(VectorOperators.I2F, 0)).mul(hi).intoArray(q, e + 32);
                        ((FloatVector) ((IntVector) high.convertShape(VectorOperators.S2I, I512, 1))
                                .convert(VectorOperators.I2F, 0)).mul(hi).intoArray(q, e + 48);
                    }
                }
            }
        }

        /**
         * With 512-bit vectors, llama.cpp's integer form itself: per run of 32 values, the nibbles widened to 16-bit
         * lanes times the activation integers ({@link Activations#q16}; at most 15 * 127), neighbouring products
         * added in int lanes, times the run's scale (exact in int), summed over the super-block's runs; then pairs of
         * int lanes added within long lanes give the eight sums of four positions in the odd int lanes, converted to
         * float for the same FMA chain. The same integers as the float form, in about half the instructions.
         */
        @Override
        float smallBatchDot(int row, Activations x, int t) {
            if (!WIDE) {
                return super.smallBatchDot(row, x, t);
            }
            Scaled s = scaled.get();
            short[] y = x.q16();
            float[] bs = x.xsum;
            long base = row * rowBytes;
            int yo = t * cols;
            int go = t * (cols / 32);
            int nb = cols / 256;
            FloatVector acc = FloatVector.zero(F512);
            float m0 = 0f, m1 = 0f, m2 = 0f, m3 = 0f; // minsFourLanes' four lanes
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * blockBytes;
                int yb = yo + 256 * b;
                int g = go + 8 * b;
                // scales and mins kept in two longs, not unpacked one by one into arrays: that scalar work and
                // its spills took more of the loop than the products (perf on the JIT's code, 1536-wide rows)
                long packedLo = data.get(Kernels.LONG, p + 4); // packed bytes 0-7 of the 12
                int packedHi = data.get(Kernels.INT, p + 12); // bytes 8-11
                long sc = scales(packedLo, packedHi);
                long mn = mins(packedLo, packedHi);
                // minsFourLanes' terms: min 2k * bsum 2k + min 2k+1 * bsum 2k+1 (exact integers), FMA'd into lane k
                float dm = -x.d[g] * dmin(p);
                m0 = Math.fma(dm, (mn & 0xFF) * bs[g] + (mn >>> 8 & 0xFF) * bs[g + 1], m0);
                m1 = Math.fma(dm, (mn >>> 16 & 0xFF) * bs[g + 2] + (mn >>> 24 & 0xFF) * bs[g + 3], m1);
                m2 = Math.fma(dm, (mn >>> 32 & 0xFF) * bs[g + 4] + (mn >>> 40 & 0xFF) * bs[g + 5], m2);
                m3 = Math.fma(dm, (mn >>> 48 & 0xFF) * bs[g + 6] + (mn >>> 56) * bs[g + 7], m3);
                // the scaled sums in float lanes, an FMA instead of a 32-bit integer multiply: integers below 2^24
                // (a pair of products at most 2 * 15 * 128, times a scale below 64, eight sub-blocks, a pair of
                // lanes: under 2^22), so every step is exact, in any order: two chains halve the FMA latency
                FloatVector sumLo = FloatVector.zero(F512);
                FloatVector sumHi = FloatVector.zero(F512);
                for (int j = 0; j < 4; j++) {
                    ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B256, data, p + 16 + 32 * j, Kernels.LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                    IntVector lo = w.and((short) 0xF).mul(ShortVector.fromArray(S512, y, yb + 64 * j)).reinterpretAsInts();
                    IntVector hi = w.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S512, y, yb + 64 * j + 32))
                            .reinterpretAsInts();
                    // (v + (v << 16)) >> 16 in an int lane: the sum of its two 16-bit products
                    lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    sumLo = ((FloatVector) lo.convert(VectorOperators.I2F, 0)).fma(
                            FloatVector.broadcast(F512, (float) (sc >>> 16 * j & 0xFF)), sumLo);
                    sumHi = ((FloatVector) hi.convert(VectorOperators.I2F, 0)).fma(
                            FloatVector.broadcast(F512, (float) (sc >>> 16 * j + 8 & 0xFF)), sumHi);
                }
                FloatVector sum = sumLo.add(sumHi);
                FloatVector isum = sum.add(sum.rearrange(PAIR_512)); // odd lanes: the eight sums of four
                acc = isum.fma(FloatVector.broadcast(F512, x.d[g] * d(p)), acc);
            }
            acc.intoArray(s.lanes4, 0);
            return hsumOddLanes(s.lanes4) + ((m0 + m2) + (m1 + m3)); // minsFourLanes' sum of its lanes
        }

        @Override
        protected void fusedBlock(long p, float[] sc, float[] y, int yo, float dd, float[] acc) {
            for (int v = 0; v < 32; v += L) {
                FloatVector sum = FloatVector.zero(F);
                for (int j = 0; j < 4; j++) {
                    IntVector bv = Kernels.unsignedInts(data, p + 16 + 32 * j + v);
                    sum = Kernels.toFloat(bv.and(0xF)).mul(sc[2 * j])
                            .fma(FloatVector.fromArray(F, y, yo + 64 * j + v), sum);
                    sum = Kernels.toFloat(bv.lanewise(VectorOperators.LSHR, 4)).mul(sc[2 * j + 1])
                            .fma(FloatVector.fromArray(F, y, yo + 64 * j + 32 + v), sum);
                }
                accumulate(sum, dd, acc, v);
            }
        }

        @Override
        protected void decodeInts(long p, float[] q, int o) {
            for (int j = 0; j < 4; j++) {
                for (int l = 0; l < 32; l += L) {
                    // int lanes (byte-lane shifts are emulated) and no vector helpers (left out of line, they box)
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(Kernels.B, data, p + 16 + 32 * j + l,
                            Kernels.LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, Kernels.I, 0);
                    ((FloatVector) v.and(0xF).convert(VectorOperators.I2F, 0)).intoArray(q, o + 64 * j + l);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                            .intoArray(q, o + 64 * j + 32 + l);
                }
            }
        }
    }

    /** Q5_K: fp16 d, fp16 dmin, 12 bytes scales/mins, 32 bytes high bits (bit s of byte l for sub-block s), 128 nibbles. */
    static final class Q5_K extends PackedScalesAndMins {
        /** With {@code repack} (and 16-lane vectors) whole groups of 16 rows are repacked ({@link Q4KRowGroups}). */
        Q5_K(MemorySegment data, int rows, int cols, boolean repack) {
            super(GgmlType.Q5_K, data, rows, cols, MinTerm.SCALAR,
                    repack && WIDE && L == 16 ? Q4KRowGroups.interleaveQ5(data, rows, cols / 256) : null);
        }

        /** Q5_K's group kernel costs more per token: 0.69-0.81x the time at 2 to 6 tokens, 1.08x at 8. */
        @Override
        int perTokenBelow() {
            return 8;
        }

        /**
         * {@link Q4_K#groupDot} with each position's fifth bit: per llama.cpp lane k, the high-bit bytes of positions
         * 4k..4k+3 (two loads, shifted left by 4 once), bit 2i (low nibbles) or 2i + 1 (high) moved to bit 4 with a
         * shift and a mask, as {@link #smallBatchDot} does. Values up to 31: the sums stay below 2^23, exact in float.
         * The min term follows in {@link #addGroupMins}.
         */
        @Override
        void groupDot(int g, Activations x, int t, float[] out, int o) {
            float[] a = scaled.get().group; // accumulator k at L k, scales at 8 L + L s, d_x * d_w at 16 L
            java.util.Arrays.fill(a, 0, 8 * L, 0f);
            int[] xp = x.pairs16();
            float[] xd = x.d;
            int xo = t * (cols / 2);
            int go = t * (cols / 32);
            int nb = cols / 256;
            long base = (long) g * nb * Q4KRowGroups.BLOCK_Q5;
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * Q4KRowGroups.BLOCK_Q5;
                float dx = xd[go + 8 * b];
                for (int sub = 0; sub < 8; sub++) {
                    smallInts(p + Q4KRowGroups.SCALES + (long) L * sub).intoArray(a, 8 * L + L * sub);
                }
                // the super-block's products in a method of their own: with the fifth bits, the whole kernel in one
                // method grew past C2's inlining budget (NodeCountInliningCutoff) and every vector was boxed
                FloatVector.fromMemorySegment(F, packed, p + Q4KRowGroups.D, Kernels.LE).mul(dx).intoArray(a, 16 * L);
                superBlock(p, xp, xo + 128 * b, a);
            }
            hsumGroup(a, out, o);
        }

        /**
         * {@link #groupDot}'s work on the super-block at p: the eight lanes' products, accumulated into
         * {@code a[L k ..]} with the scales at {@code a[8 L ..]} and {@code d_x * d_w} at {@code a[16 L ..]}.
         */
        private void superBlock(long p, int[] xp, int xb, float[] a) {
            lowNibbles(p, xp, xb, a);
            highNibbles(p, xp, xb, a);
        }

        /** Sub-blocks 2i (the low nibbles): each lane's sum to {@code a[17 L + L k ..]}. */
        private void lowNibbles(long p, int[] xp, int xb, float[] a) {
            FloatVector z = FloatVector.zero(F);
            long q = p + Q4KRowGroups.QUANTS_Q5;
            for (int k = 0; k < 8; k++) {
                long qh = p + Q4KRowGroups.QH_Q5 + 4L * L * k;
                ShortVector h0 = RowGroups.pairBytes(packed, qh).lanewise(VectorOperators.LSHL, 4);
                ShortVector h1 = RowGroups.pairBytes(packed, qh + 2 * L).lanewise(VectorOperators.LSHL, 4);
                FloatVector sum = z;
                for (int i = 0; i < 4; i++) {
                    long qi = q + 4L * L * (4 * k + i); // bytes 4k, 4k + 1, then 4k + 2, 4k + 3
                    int xi = xb + 32 * i + 2 * k;
                    IntVector lo = RowGroups.pairBytes(packed, qi).and((short) 0xF)
                            .or(h0.lanewise(VectorOperators.LSHR, 2 * i).and((short) 0x10))
                            .mul(RowGroups.broadcastPair(xp[xi]))
                            .add(RowGroups.pairBytes(packed, qi + 2 * L).and((short) 0xF)
                                    .or(h1.lanewise(VectorOperators.LSHR, 2 * i).and((short) 0x10))
                                    .mul(RowGroups.broadcastPair(xp[xi + 1]))).reinterpretAsInts();
                    // (v + (v << 16)) >> 16 in an int lane: the sum of its two 16-bit sums
                    lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    sum = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, a, 8 * L + 2 * L * i), sum);
                }
                sum.intoArray(a, 17 * L + L * k);
            }
        }

        /**
         * Sub-blocks 2i + 1 (the high nibbles), added to the low ones' sums (exact integers), then
         * {@code acc_k = fma(isum_k, d_x * d_w, acc_k)}.
         */
        private void highNibbles(long p, int[] xp, int xb, float[] a) {
            FloatVector z = FloatVector.zero(F);
            FloatVector dd = FloatVector.fromArray(F, a, 16 * L);
            long q = p + Q4KRowGroups.QUANTS_Q5;
            for (int k = 0; k < 8; k++) {
                long qh = p + Q4KRowGroups.QH_Q5 + 4L * L * k;
                ShortVector h0 = RowGroups.pairBytes(packed, qh).lanewise(VectorOperators.LSHL, 4);
                ShortVector h1 = RowGroups.pairBytes(packed, qh + 2 * L).lanewise(VectorOperators.LSHL, 4);
                FloatVector sum = z;
                for (int i = 0; i < 4; i++) {
                    long qi = q + 4L * L * (4 * k + i);
                    int xi = xb + 32 * i + 2 * k + 16;
                    IntVector hi = RowGroups.pairBytes(packed, qi).lanewise(VectorOperators.LSHR, 4)
                            .or(h0.lanewise(VectorOperators.LSHR, 2 * i + 1).and((short) 0x10))
                            .mul(RowGroups.broadcastPair(xp[xi]))
                            .add(RowGroups.pairBytes(packed, qi + 2 * L).lanewise(VectorOperators.LSHR, 4)
                                    .or(h1.lanewise(VectorOperators.LSHR, 2 * i + 1).and((short) 0x10))
                                    .mul(RowGroups.broadcastPair(xp[xi + 1]))).reinterpretAsInts();
                    hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    sum = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, a, 9 * L + 2 * L * i), sum);
                }
                FloatVector.fromArray(F, a, 17 * L + L * k).add(sum).fma(dd, FloatVector.fromArray(F, a, L * k))
                        .intoArray(a, L * k);
            }
        }

        /**
         * {@link #smallBatchDot}'s min term (minsScalar) for group g's L rows and token t, added to
         * {@code out[o .. o + L)}: per super-block the exact integer sum of mins times block sums, FMA'd with
         * {@code -d_x * dmin}. A pass of its own, as Q4_K's.
         */
        @Override
        void addGroupMins(int g, Activations x, int t, float[] out, int o) {
            float[] mins = scaled.get().groupMins; // one super-block's mins, sub-block s at L s
            float[] xd = x.d;
            float[] bs = x.xsum;
            int go = t * (cols / 32);
            int nb = cols / 256;
            long base = (long) g * nb * Q4KRowGroups.BLOCK_Q5;
            FloatVector summs = FloatVector.zero(F);
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * Q4KRowGroups.BLOCK_Q5;
                int gi = go + 8 * b;
                for (int sub = 0; sub < 8; sub++) {
                    smallInts(p + Q4KRowGroups.MINS + (long) L * sub).intoArray(mins, L * sub);
                }
                FloatVector total = FloatVector.fromArray(F, mins, 0).mul(bs[gi]); // integers: exact in any order
                for (int sub = 1; sub < 8; sub++) {
                    total = FloatVector.fromArray(F, mins, L * sub).mul(bs[gi + sub]).add(total);
                }
                FloatVector dm = FloatVector.fromMemorySegment(F, packed, p + Q4KRowGroups.DMIN, Kernels.LE).mul(-xd[gi]);
                summs = dm.fma(total, summs);
            }
            FloatVector.fromArray(F, out, o).add(summs).intoArray(out, o);
        }

        /** Int index of pair m (positions 2m, 2m + 1) of rows 0 and 1, in a block's high-bit bytes. */
        private static final int[] QH_PAIR_INTS = new int[L];

        static {
            for (int m = 0; m < L; m++) {
                QH_PAIR_INTS[m] = Q4KRowGroups.highBits(2 * m, 0) / 4;
            }
        }

        /**
         * Row {@code row} (and row + 1) from its group's copy, as {@link Q4_K#decodePacked}, with each position's
         * fifth bit from one more gather of the rows' high-bit bytes per super-block.
         */
        @Override
        void decodePacked(int row, Scaled s, Scaled next) {
            int nb = cols / 256;
            int g = row / L;
            int k0 = row % L;
            int count = next == null ? 1 : 2;
            int blockInts = Q4KRowGroups.BLOCK_Q5 / 4;
            int[] ints = groupInts(g, Q4KRowGroups.BLOCK_Q5);
            long base = (long) g * nb * Q4KRowGroups.BLOCK_Q5;
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * Q4KRowGroups.BLOCK_Q5;
                packedHeads(p, b, k0, s, next);
                IntVector bits = IntVector.fromArray(I512, ints, b * blockInts + Q4KRowGroups.QH_Q5 / 4 + k0 / 2,
                        QH_PAIR_INTS, 0);
                for (int i = 0; i < 4; i++) {
                    IntVector v = IntVector.fromArray(I512, ints,
                            b * blockInts + Q4KRowGroups.QUANTS_Q5 / 4 + L * i + k0 / 2, Q4_K.PAIR_INTS, 0);
                    int e = 256 * b + 64 * i;
                    for (int h = 0; h < count; h++) {
                        int k = k0 + h;
                        float[] q = (h == 0 ? s : next).q;
                        float lo = packed.get(ValueLayout.JAVA_BYTE, p + Q4KRowGroups.SCALES + L * 2 * i + k);
                        float hi = packed.get(ValueLayout.JAVA_BYTE, p + Q4KRowGroups.SCALES + L * (2 * i + 1) + k);
                        // the row's two bytes (the low or high half of each int) to lane m: byte 2m in bits 0-7, byte
                        // 2m + 1 in bits 16-23, so 16-bit lane j holds byte j; the same for its high-bit bytes
                        IntVector u = v.lanewise(VectorOperators.LSHR, 16 * (k % 2));
                        IntVector w = u.and(0xFF).or(u.and(0xFF00).lanewise(VectorOperators.LSHL, 8));
                        IntVector c = bits.lanewise(VectorOperators.LSHR, 16 * (k % 2));
                        ShortVector qh = c.and(0xFF).or(c.and(0xFF00).lanewise(VectorOperators.LSHL, 8))
                                .reinterpretAsShorts();
                        ShortVector low = w.and(0x000F000F).reinterpretAsShorts()
                                .or(qh.lanewise(VectorOperators.LSHR, 2 * i).and((short) 1).lanewise(VectorOperators.LSHL, 4));
                        ShortVector high = w.lanewise(VectorOperators.LSHR, 4).and(0x000F000F).reinterpretAsShorts()
                                .or(qh.lanewise(VectorOperators.LSHR, 2 * i + 1).and((short) 1)
                                        .lanewise(VectorOperators.LSHL, 4));
                        ((FloatVector) ((IntVector) low.convertShape(VectorOperators.S2I, I512, 0))
                                .convert(VectorOperators.I2F, 0)).mul(lo).intoArray(q, e);
                        ((FloatVector) ((IntVector) low.convertShape(VectorOperators.S2I, I512, 1))
                                .convert(VectorOperators.I2F, 0)).mul(lo).intoArray(q, e + 16);
                        ((FloatVector) ((IntVector) high.convertShape(VectorOperators.S2I, I512, 0))
                                .convert(VectorOperators.I2F, 0)).mul(hi).intoArray(q, e + 32);
                        ((FloatVector) ((IntVector) high.convertShape(VectorOperators.S2I, I512, 1))
                                .convert(VectorOperators.I2F, 0)).mul(hi).intoArray(q, e + 48);
                    }
                }
            }
        }

        /**
         * With 512-bit vectors, {@link Q4_K#smallBatchDot}'s integer form with each run's fifth bits: bit 2j (low
         * nibbles) or 2j + 1 (high) of the 32 high-bit bytes, one per position, widened to 16-bit lanes once per
         * super-block. Values up to 31: the eight sums of four stay below 2^23, exact in float as before.
         */
        @Override
        float smallBatchDot(int row, Activations x, int t) {
            if (!WIDE) {
                return super.smallBatchDot(row, x, t);
            }
            Scaled s = scaled.get();
            short[] y = x.q16();
            float[] bs = x.xsum;
            long base = row * rowBytes;
            int yo = t * cols;
            int go = t * (cols / 32);
            int nb = cols / 256;
            FloatVector acc = FloatVector.zero(F512);
            float summs = 0f; // minsScalar's sum
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * blockBytes;
                int yb = yo + 256 * b;
                int g = go + 8 * b;
                // scales and mins in two longs, as Q4_K's kernel keeps them
                long packedLo = data.get(Kernels.LONG, p + 4);
                int packedHi = data.get(Kernels.INT, p + 12);
                long sc = scales(packedLo, packedHi);
                long mn = mins(packedLo, packedHi);
                float total = 0f; // minsScalar's integers: exact in any order
                for (int k = 0; k < 8; k++) {
                    total += (mn >>> 8 * k & 0xFF) * bs[g + k];
                }
                summs = Math.fma(-x.d[g] * dmin(p), total, summs);
                // the 32 high-bit bytes, shifted left by 4 once: run r's bit then reaches bit 4 with one shift and a mask
                ShortVector h = ((ShortVector) ByteVector.fromMemorySegment(B256, data, p + 16, Kernels.LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0)).lanewise(VectorOperators.LSHL, 4);
                // scaled sums in float lanes, as Q4_K's: below 2^24 at every step (pairs of products up to
                // 2 * 31 * 128, scales below 64, eight sub-blocks, a pair of lanes), so exact in any order: two chains
                FloatVector sumLo = FloatVector.zero(F512);
                FloatVector sumHi = FloatVector.zero(F512);
                for (int j = 0; j < 4; j++) {
                    ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B256, data, p + 48 + 32 * j, Kernels.LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                    ShortVector h1 = h.lanewise(VectorOperators.LSHR, 2 * j).and((short) 0x10);
                    ShortVector h2 = h.lanewise(VectorOperators.LSHR, 2 * j + 1).and((short) 0x10);
                    IntVector lo = w.and((short) 0xF).or(h1).mul(ShortVector.fromArray(S512, y, yb + 64 * j))
                            .reinterpretAsInts();
                    IntVector hi = w.lanewise(VectorOperators.LSHR, 4).or(h2)
                            .mul(ShortVector.fromArray(S512, y, yb + 64 * j + 32)).reinterpretAsInts();
                    lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    sumLo = ((FloatVector) lo.convert(VectorOperators.I2F, 0)).fma(
                            FloatVector.broadcast(F512, (float) (sc >>> 16 * j & 0xFF)), sumLo);
                    sumHi = ((FloatVector) hi.convert(VectorOperators.I2F, 0)).fma(
                            FloatVector.broadcast(F512, (float) (sc >>> 16 * j + 8 & 0xFF)), sumHi);
                }
                FloatVector sum = sumLo.add(sumHi);
                FloatVector isum = sum.add(sum.rearrange(PAIR_512)); // odd lanes: the eight sums of four
                acc = isum.fma(FloatVector.broadcast(F512, x.d[g] * d(p)), acc);
            }
            acc.intoArray(s.lanes4, 0);
            return hsumOddLanes(s.lanes4) + summs;
        }

        @Override
        protected void fusedBlock(long p, float[] sc, float[] y, int yo, float dd, float[] acc) {
            for (int v = 0; v < 32; v += L) {
                IntVector h = Kernels.unsignedInts(data, p + 16 + v);
                FloatVector sum = FloatVector.zero(F);
                for (int j = 0; j < 4; j++) {
                    IntVector bv = Kernels.unsignedInts(data, p + 48 + 32 * j + v);
                    IntVector h1 = h.lanewise(VectorOperators.LSHR, 2 * j).and(1).lanewise(VectorOperators.LSHL, 4);
                    IntVector h2 = h.lanewise(VectorOperators.LSHR, 2 * j + 1).and(1).lanewise(VectorOperators.LSHL, 4);
                    sum = Kernels.toFloat(bv.and(0xF).or(h1)).mul(sc[2 * j])
                            .fma(FloatVector.fromArray(F, y, yo + 64 * j + v), sum);
                    sum = Kernels.toFloat(bv.lanewise(VectorOperators.LSHR, 4).or(h2)).mul(sc[2 * j + 1])
                            .fma(FloatVector.fromArray(F, y, yo + 64 * j + 32 + v), sum);
                }
                accumulate(sum, dd, acc, v);
            }
        }

        @Override
        protected void decodeInts(long p, float[] q, int o) {
            for (int j = 0; j < 4; j++) {
                for (int l = 0; l < 32; l += L) {
                    ByteVector v = Kernels.bytes(data, p + 48 + 32 * j + l);
                    ByteVector h = Kernels.bytes(data, p + 16 + l);
                    ByteVector h1 = h.lanewise(VectorOperators.LSHR, 2 * j).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                    ByteVector h2 = h.lanewise(VectorOperators.LSHR, 2 * j + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                    Kernels.toFloat(v.and((byte) 0xF).or(h1)).intoArray(q, o + 64 * j + l);
                    Kernels.toFloat(v.lanewise(VectorOperators.LSHR, 4).or(h2)).intoArray(q, o + 64 * j + 32 + l);
                }
            }
        }
    }

    /**
     * Q6_K: 128 bytes low 4 bits (ql), 64 bytes high 2 bits (qh), 16 int8 scales, fp16 d. Per half of 128 values:
     * element l = ql[l] low | qh[l] bits 0-1, l + 32 = ql[l + 32] low | bits 2-3, l + 64 = ql[l] high | bits 4-5,
     * l + 96 = ql[l + 32] high | bits 6-7; value = d * scale * (q - 32).
     */
    static final class Q6_K extends KQuantMatrix {
        /** With {@code repack} (and 16-lane vectors) whole groups of 16 rows are repacked ({@link Q6KRowGroups}). */
        Q6_K(MemorySegment data, int rows, int cols, boolean repack) {
            super(GgmlType.Q6_K, data, rows, cols, 16, MinTerm.NONE,
                    repack && WIDE && L == 16 ? Q6KRowGroups.interleave(data, rows, cols / 256) : null);
        }

        /**
         * {@link #wideDot} for the L rows of group g at once, one row per lane, as {@link Q4_K#groupDot}: for each of
         * llama.cpp's eight lanes c (positions 4c..4c+3 of every run of 32 values) and each of the eight runs, two
         * loads give those four values minus 32 for all L rows, multiplied in 16-bit lanes by the broadcast
         * activation pairs (two products added: at most 2 * 32 * 128), the halves of each 32-bit lane added as ints,
         * and each run's sum times the scale of its sub-block (the first of the run's two for c < 4) added in float
         * lanes: the same exact integers as wideDot's, then the same {@code fma(isum_c, d_x * d_w, acc_c)} and
         * hsum_float_8's tree, lane for lane.
         */
        @Override
        void groupDot(int g, Activations x, int t, float[] out, int o) {
            float[] a = scaled.get().group; // accumulator c at L c, scale of sub-block s at 8 L + L s
            java.util.Arrays.fill(a, 0, 8 * L, 0f);
            int[] xp = x.pairs16();
            float[] xd = x.d;
            int xo = t * (cols / 2);
            int go = t * (cols / 32);
            int nb = cols / 256;
            long base = (long) g * nb * Q6KRowGroups.BLOCK;
            FloatVector z = FloatVector.zero(F);
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * Q6KRowGroups.BLOCK;
                for (int sub = 0; sub < 16; sub++) {
                    smallInts(p + Q6KRowGroups.SCALES + (long) L * sub).intoArray(a, 8 * L + L * sub);
                }
                FloatVector dd = FloatVector.fromMemorySegment(F, packed, p + Q6KRowGroups.D, Kernels.LE)
                        .mul(xd[go + 8 * b]);
                long q = p + Q6KRowGroups.QUANTS;
                int xb = xo + 128 * b; // pair index of the super-block's element 0
                for (int c = 0; c < 8; c++) {
                    int half = c >> 2; // positions 4c..4c+3 lie in a run's first sub-block of 16 or its second
                    FloatVector sumA = z, sumB = z; // even and odd runs: two chains, half the FMA latency
                    for (int r = 0; r < 8; r += 2) {
                        long qa = q + 4L * L * (8 * c + r); // positions 4c, 4c + 1, then 4c + 2, 4c + 3
                        int xa = xb + 16 * r + 2 * c;
                        IntVector va = RowGroups.signedPairBytes(packed, qa).mul(RowGroups.broadcastPair(xp[xa]))
                                .add(RowGroups.signedPairBytes(packed, qa + 2 * L)
                                        .mul(RowGroups.broadcastPair(xp[xa + 1]))).reinterpretAsInts();
                        IntVector vb = RowGroups.signedPairBytes(packed, qa + 4 * L)
                                .mul(RowGroups.broadcastPair(xp[xa + 16]))
                                .add(RowGroups.signedPairBytes(packed, qa + 6 * L)
                                        .mul(RowGroups.broadcastPair(xp[xa + 17]))).reinterpretAsInts();
                        // (v + (v << 16)) >> 16 in an int lane: the sum of its two 16-bit sums
                        va = va.add(va.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                        vb = vb.add(vb.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                        sumA = ((FloatVector) va.convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.fromArray(F, a, 8 * L + L * (2 * r + half)), sumA);
                        sumB = ((FloatVector) vb.convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.fromArray(F, a, 8 * L + L * (2 * r + 2 + half)), sumB);
                    }
                    sumA.add(sumB).fma(dd, FloatVector.fromArray(F, a, L * c)).intoArray(a, L * c);
                }
            }
            hsumGroup(a, out, o);
        }


        /** Int index of pair m (positions 2m, 2m + 1) of run 0, rows 0 and 1, in a block's quants. */
        private static final int[] PAIR_INTS = new int[L];

        static {
            for (int m = 0; m < L; m++) {
                PAIR_INTS[m] = Q6KRowGroups.quant(0, 2 * m, 0) / 4;
            }
        }

        /**
         * Row {@code row} (and row + 1, see {@link KQuantMatrix#decodePacked}) from its group's copy
         * ({@link #groupInts}), as {@link Q4_K#decodePacked}: per run, one gather of the 16 ints that hold the byte
         * pairs of the row and its neighbour, each row's bytes moved to 16-bit lanes in element order and
         * sign-extended, widened to floats and multiplied by the scales of the run's two sub-blocks.
         */
        @Override
        void decodePacked(int row, Scaled s, Scaled next) {
            int nb = cols / 256;
            int g = row / L;
            int k0 = row % L;
            int count = next == null ? 1 : 2;
            int blockInts = Q6KRowGroups.BLOCK / 4;
            int[] ints = groupInts(g, Q6KRowGroups.BLOCK);
            long base = (long) g * nb * Q6KRowGroups.BLOCK;
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * Q6KRowGroups.BLOCK;
                s.d[b] = packed.get(Kernels.FLOAT, p + Q6KRowGroups.D + 4 * k0);
                if (next != null) {
                    next.d[b] = packed.get(Kernels.FLOAT, p + Q6KRowGroups.D + 4 * (k0 + 1));
                }
                for (int r = 0; r < 8; r++) {
                    IntVector v = IntVector.fromArray(I512, ints,
                            b * blockInts + (Q6KRowGroups.QUANTS + Q6KRowGroups.quant(r, 0, k0)) / 4, PAIR_INTS, 0);
                    int e = 256 * b + 32 * r;
                    for (int h = 0; h < count; h++) {
                        int k = k0 + h;
                        float[] q = (h == 0 ? s : next).q;
                        float first = packed.get(ValueLayout.JAVA_BYTE, p + Q6KRowGroups.SCALES + L * 2 * r + k);
                        float second = packed.get(ValueLayout.JAVA_BYTE, p + Q6KRowGroups.SCALES + L * (2 * r + 1) + k);
                        // the row's two bytes (the low or high half of each int) to lane m: byte 2m in bits 0-7, byte
                        // 2m + 1 in bits 16-23, so 16-bit lane j holds byte j, then sign-extended
                        IntVector u = v.lanewise(VectorOperators.LSHR, 16 * (k % 2));
                        ShortVector w = u.and(0xFF).or(u.and(0xFF00).lanewise(VectorOperators.LSHL, 8))
                                .reinterpretAsShorts().lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                        ((FloatVector) ((IntVector) w.convertShape(VectorOperators.S2I, I512, 0))
                                .convert(VectorOperators.I2F, 0)).mul(first).intoArray(q, e);
                        ((FloatVector) ((IntVector) w.convertShape(VectorOperators.S2I, I512, 1))
                                .convert(VectorOperators.I2F, 0)).mul(second).intoArray(q, e + 16);
                    }
                }
            }
        }

        @Override
        protected int scale(long p, int s) {
            return data.get(ValueLayout.JAVA_BYTE, p + 192 + s);
        }

        @Override
        protected float d(long p) {
            return Kernels.f16(data, p + 208);
        }

        /**
         * Straight from the mapped bytes, one super-block at a time, instead of decoding the whole row to memory and
         * reading it back: the same exact integer sums and the same FMAs per lane as the decoded path. A copy of
         * {@link PackedScalesAndMins}'s loop on purpose: one loop shared by all three types, calling each type's block
         * kernel, measured 12-13 instead of 28-30 tok/s on a Q4_K_M file (Q4_K and Q6_K at the same call site).
         */
        @Override
        float smallBatchDot(int row, Activations x, int t) {
            return WIDE ? wideDot(row, x, t) : floatDot(row, x, t);
        }

        /**
         * With 512-bit vectors, llama.cpp's integer form (as {@link Q4_K#smallBatchDot}): per run, the 6-bit values
         * minus 32 in 16-bit lanes times the activation integers, neighbouring products added in int lanes, times
         * the scales of the run's two sub-blocks (lanes 0-7 and 8-15), summed over the runs; then the eight sums of
         * four positions in the odd lanes. The same integers as {@link #floatDot}.
         * <p>
         * Two things make it cheaper than it reads. The four runs of a half share their bytes (runs 0 and 2 are the
         * low and high nibbles of the same 32 bytes, 1 and 3 of the next 32, and all four take two bits of the same
         * high-bit bytes), so each half loads and widens three vectors instead of eight. And the scaled sums are
         * kept in float lanes, with an FMA instead of a 32-bit integer multiply (slow on these cores): they are
         * integers below 2^24 (a pair of products is at most 2 * 32 * 128 = 2^13, times a scale of at most 128 is
         * 2^20, eight runs 2^23, a pair of lanes 2^24), so every float step is exact and the result is the integer
         * path's, bit for bit. The runs are written out: not in a helper (vectors must not cross a call C2 may not
         * inline), nor in a loop over m choosing q0 or q1, which measured 945-985 against 630-650 us (JMH, 896 x
         * 4864, one thread).
         */
        private float wideDot(int row, Activations x, int t) {
            Scaled s = scaled.get();
            short[] y = x.q16();
            long base = row * rowBytes;
            int yo = t * cols;
            int go = t * (cols / 32);
            int nb = cols / 256;
            FloatVector acc = FloatVector.zero(F512);
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * blockBytes;
                FloatVector sumA = FloatVector.zero(F512); // runs 4h and 4h + 2: two chains, half the FMA latency
                FloatVector sumB = FloatVector.zero(F512); // runs 4h + 1 and 4h + 3
                // the sixteen int8 scales widened in one load, lane i scale i; each run takes its pair (lanes 0-7 and
                // 8-15) with a permute, and the next half's scales move down. Widened through int lanes, with the
                // two conversions every kernel here uses: an earlier form (bytes straight to floats, then added to
                // zero) was left to the Java fallbacks with two builds in one JVM, boxing every vector (design.md)
                FloatVector scales = (FloatVector) ((IntVector) ByteVector.fromMemorySegment(B128, data, p + 192,
                        Kernels.LE).convertShape(VectorOperators.B2I, I512, 0)).convert(VectorOperators.I2F, 0);
                for (int h = 0; h < 2; h++) { // runs 4h .. 4h + 3: elements 128h + 32m + [0, 32)
                    int yr = yo + 256 * b + 128 * h;
                    ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(B256, data, p + 64L * h, Kernels.LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                    ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(B256, data, p + 64L * h + 32,
                            Kernels.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                    ShortVector qh = (ShortVector) ByteVector.fromMemorySegment(B256, data, p + 128 + 32L * h,
                            Kernels.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);

                    // each run's two high bits moved to bits 4-5 with one shift and a mask (or only the mask)
                    ShortVector w0 = q0.and((short) 0xF).or(qh.lanewise(VectorOperators.LSHL, 4).and((short) 0x30));
                    IntVector v0 = w0.sub((short) 32).mul(ShortVector.fromArray(S512, y, yr)).reinterpretAsInts();
                    v0 = v0.add(v0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    sumA = ((FloatVector) v0.convert(VectorOperators.I2F, 0)).fma(scales.rearrange(RUN_SCALES_0), sumA);

                    ShortVector w1 = q1.and((short) 0xF).or(qh.lanewise(VectorOperators.LSHL, 2).and((short) 0x30));
                    IntVector v1 = w1.sub((short) 32).mul(ShortVector.fromArray(S512, y, yr + 32))
                            .reinterpretAsInts();
                    v1 = v1.add(v1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    sumB = ((FloatVector) v1.convert(VectorOperators.I2F, 0)).fma(scales.rearrange(RUN_SCALES_1), sumB);

                    ShortVector w2 = q0.lanewise(VectorOperators.LSHR, 4).or(qh.and((short) 0x30));
                    IntVector v2 = w2.sub((short) 32).mul(ShortVector.fromArray(S512, y, yr + 64))
                            .reinterpretAsInts();
                    v2 = v2.add(v2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    sumA = ((FloatVector) v2.convert(VectorOperators.I2F, 0)).fma(scales.rearrange(RUN_SCALES_2), sumA);

                    ShortVector w3 = q1.lanewise(VectorOperators.LSHR, 4).or(qh.lanewise(VectorOperators.LSHR, 2)
                            .and((short) 0x30));
                    IntVector v3 = w3.sub((short) 32).mul(ShortVector.fromArray(S512, y, yr + 96))
                            .reinterpretAsInts();
                    v3 = v3.add(v3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    sumB = ((FloatVector) v3.convert(VectorOperators.I2F, 0)).fma(scales.rearrange(RUN_SCALES_3), sumB);
                    scales = scales.rearrange(NEXT_HALF);
                }
                FloatVector sum = sumA.add(sumB);
                FloatVector isum = sum.add(sum.rearrange(PAIR_512)); // odd lanes: the eight sums of four
                acc = isum.fma(FloatVector.broadcast(F512, x.d[go + 8 * b] * d(p)), acc);
            }
            acc.intoArray(s.lanes4, 0);
            return hsumOddLanes(s.lanes4);
        }

        private float floatDot(int row, Activations x, int t) {
            Scaled s = scaled.get();
            float[] a = s.lanes;
            java.util.Arrays.fill(a, 0, 32, 0f);
            long base = row * rowBytes;
            int yo = t * cols;
            int go = t * (cols / 32);
            int nb = cols / 256;
            for (int b = 0; b < nb; b++) {
                long p = base + (long) b * blockBytes;
                for (int k = 0; k < 16; k += L) { // the 16 int8 scales, in one load where vectors have 16 lanes
                    Kernels.toFloat(Kernels.bytes(data, p + 192 + k)).intoArray(s.sc, k);
                }
                fusedBlock(p, s.sc, x.f, yo + 256 * b, x.d[go + 8 * b] * d(p), a);
            }
            return finish(s, s.lanes, 0, x, go, nb);
        }

        /**
         * For each slice of L positions (mod 32), the sum over the super-block's eight 32-value runs of
         * {@code (q * scale) * y}, exact, then {@link #accumulate}. Run r is elements 128h + 32m + [0, 32) (half
         * h = r / 4, m = r % 4): the low (m < 2) or high nibbles of ql[64h + 32 (m % 2) + l], with bits 2m, 2m + 1 of
         * qh[32h + l]; its sub-blocks are 8h + 2m and 8h + 2m + 1, and a slice never straddles them. One run per
         * iteration, with shift counts from r: written out four runs at a time, the body grew past what C2 inlines
         * and every vector was boxed (measured: three times slower than decoding the row first).
         */
        private void fusedBlock(long p, float[] sc, float[] y, int yo, float dd, float[] acc) {
            for (int v = 0; v < 32; v += L) {
                FloatVector sum = FloatVector.zero(F);
                for (int r = 0; r < 8; r++) {
                    int h = r >> 2;
                    int m = r & 3;
                    IntVector low = Kernels.unsignedInts(data, p + 64L * h + 32 * (m & 1) + v)
                            .lanewise(VectorOperators.LSHR, 4 * (m >> 1)).and(0xF);
                    IntVector high = Kernels.unsignedInts(data, p + 128 + 32L * h + v)
                            .lanewise(VectorOperators.LSHR, 2 * m).and(3).lanewise(VectorOperators.LSHL, 4);
                    sum = Kernels.toFloat(low.or(high).sub(32)).mul(sc[8 * h + 2 * m + v / 16])
                            .fma(FloatVector.fromArray(F, y, yo + 32 * r + v), sum);
                }
                accumulate(sum, dd, acc, v);
            }
        }

        @Override
        protected void decodeInts(long p, float[] q, int o0) {
            for (int h = 0; h < 2; h++) {
                long ql = p + 64L * h;
                long qh = p + 128 + 32L * h;
                int o = o0 + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    // int lanes (byte-lane shifts are emulated) and no vector helpers (left out of line, they box);
                    // each run's two high bits moved to bits 4-5 with one shift and a mask, as in wideDot
                    IntVector a = (IntVector) ByteVector.fromMemorySegment(Kernels.B, data, ql + l, Kernels.LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, Kernels.I, 0);
                    IntVector c = (IntVector) ByteVector.fromMemorySegment(Kernels.B, data, ql + l + 32, Kernels.LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, Kernels.I, 0);
                    IntVector hb = (IntVector) ByteVector.fromMemorySegment(Kernels.B, data, qh + l, Kernels.LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, Kernels.I, 0);
                    ((FloatVector) a.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32)
                            .convert(VectorOperators.I2F, 0)).intoArray(q, o + l);
                    ((FloatVector) c.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32)
                            .convert(VectorOperators.I2F, 0)).intoArray(q, o + l + 32);
                    ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(hb.and(0x30)).sub(32)
                            .convert(VectorOperators.I2F, 0)).intoArray(q, o + l + 64);
                    ((FloatVector) c.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and(0x30))
                            .sub(32).convert(VectorOperators.I2F, 0)).intoArray(q, o + l + 96);
                }
            }
        }
    }
}
