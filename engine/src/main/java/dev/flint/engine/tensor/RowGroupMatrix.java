package dev.flint.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.function.IntUnaryOperator;

import static dev.flint.engine.tensor.Kernels.F;
import static dev.flint.engine.tensor.Kernels.L;

/**
 * Weight types of blocks of 32 with one fp16 scale, multiplied with Q8_0 activations the way llama.cpp's repacked
 * Q4_0 kernels are (ggml-cpu-aarch64.cpp, q4_0_8x8, gemv for 1-3 tokens and gemm for batches): per row and token,
 * the block's exact integer dot product, then one float chain over the blocks in order,
 * {@code acc = fma((float) isum_b, d_w,b * d_x,b, acc)} from 0. There is no lane sum over the row, so every batch
 * size gives the same result, and the only rounding is the chain's.
 *
 * <p>A chain per row has nothing to spread over vector lanes within a row, so the lanes hold rows: whole groups of L
 * rows are repacked at load ({@link RowGroups}), and a single token runs each row's chain in its own lane
 * ({@link #groupDot}, per type). Batches decode a group once and put each whole group of L tokens in the lanes
 * instead (shared here): as 16-bit pairs multiplied in 16-bit lanes for Q4_0, Q4_1 and Q5_0 ({@link #pairs4x3}), as
 * floats for Q5_1. The tokens left over run per token, or from {@link #partialGroupFrom} on as one more group partly
 * filled, whichever measured faster. Rows outside whole groups, and matrices not repacked (vectors of other than 16
 * lanes, or scales that include infinities or NaNs, which the vector scale conversion does not handle), are read
 * from the mapped bytes: row by row for one to three tokens ({@link #rowDot}), in tiles of four decoded rows for
 * batches. Every path performs the same operations.
 *
 * <p>The float tiles work on values plus 8 ({@link #decodeGroup}, {@link #decodeForLanes}): the activations' lanes
 * carry {@code 8 * sum(q)} per block, which takes the 8 off again, exactly (all integers below 2^24). The 16-bit
 * pairs hold the values minus the bias ({@link #decodePairs}).
 */
abstract class RowGroupMatrix extends QuantizedMatrix {
    /**
     * Rows that are not repacked: batches of at least this many tokens put the tokens in the vector lanes, smaller
     * ones run row by row, per token (measured: from four tokens on, one pass with the lanes partly empty costs no
     * more). Repacked groups put only whole groups of L tokens in the lanes ({@link #matmul}).
     */
    static final int LANE_BATCH = 4;
    /** Bytes of token-lane activations per chunk of a batch (they stay in a 1 MiB L2 cache beside the decoded group). */
    private static final int CHUNK_BYTES = 640 * 1024;
    /** 2L bytes and 2L shorts: bytes j and j + 1 of a repacked group's L rows, widened. */
    static final VectorSpecies<Byte> B2 = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Short> S2 = VectorSpecies.of(short.class, F.vectorShape());

    final int blocks;
    /** Bytes of one block of a repacked group. */
    final long groupBlockBytes;
    /** Offsets in a repacked block: the L rows' minimums (types with them), words (Q5) and quant byte pairs. */
    final long minsAt, wordsAt, quantsAt;
    /**
     * What the block's integer sum takes off per activation: 8 (Q4_0), 16 (Q5_0), or 0 for the types with a
     * minimum, whose values are unsigned: {@code isum = sum(u * q_x) - bias * sum(q_x)}.
     */
    final int bias;
    /**
     * Types with a minimum m per block (Q4_1, Q5_1) run a second chain per row and token beside the first,
     * {@code macc = fma(m_w,b, s_x,b, macc)} with s_x llama.cpp's fp16 {@code d_x * sum(q_x)}, and add the two at
     * the end: {@code acc + macc}.
     */
    final boolean hasMins;
    /**
     * Whether repacked groups run batches in 16-bit lanes ({@link #pairs4x3}): a lane adds 16 products of a value
     * and an activation integer (|q_x| <= 127) per block, so the values must stay within 16 in magnitude: Q4_0 and
     * Q5_0 centred (nibble - 8, q - 16), Q4_1 as they are (0..15). Q5_1's 0..31 would overflow and keep the float
     * tiles.
     */
    private final boolean shortTiles;
    private final ActivationFormat activations;
    /** Rows [0, groups * L) repacked in groups of L rows ({@link RowGroups}), or null when not repacked. */
    final MemorySegment packed;
    final int groups;

    /**
     * Blocks of {@code halves} fp16 values (the scale, then the minimum if 2), {@code words} bytes of a per-row
     * 32-bit word (rewritten by {@code word}, or kept when null), then {@code payload} bytes of quants.
     */
    RowGroupMatrix(GgmlType type, MemorySegment data, int rows, int cols, int halves, int words, int payload,
            IntUnaryOperator word, int bias, boolean repack) {
        super(type, data, rows, cols, 32, halves == 2);
        this.blocks = cols / 32;
        this.groupBlockBytes = RowGroups.blockBytes(halves, words + payload);
        this.minsAt = 2L * L;
        this.wordsAt = 2L * halves * L;
        this.quantsAt = (2L * halves + words) * L;
        this.bias = bias;
        this.hasMins = halves == 2;
        this.shortTiles = type != GgmlType.Q5_1;
        this.activations = hasMins ? ActivationFormat.Q8_1 : ActivationFormat.Q8_0;
        // only with 16 lanes: with 8 (AVX2, simulated here with -XX:UseAVX=2) single-token Q4_0 generation measured
        // 22-25 tok/s repacked against 23-29 row by row
        this.packed = repack && L == 16 ? RowGroups.interleave(data, rows, blocks, halves, words, payload, word) : null;
        this.groups = RowGroups.groups(packed, rows);
    }

    @Override
    public ActivationFormat activationFormat() {
        return activations;
    }

    @Override
    public boolean repacked() {
        return packed != null;
    }

    @Override
    public float dot(int row, Activations x, int token) {
        return rowDot(row, x, token);
    }

    /**
     * Tokens left over from whole groups (n % L) that run as one more group with its lanes partly filled, rather than
     * per token ({@link #groupDot}); more than L: never.
     */
    abstract int partialGroupFrom();

    /** Whether batches of repacked groups run the 16-bit tiles ({@link #pairs4x3}). */
    final boolean shortTiles() {
        return shortTiles;
    }

    /**
     * Group g's L rows times token t into {@code out[o .. o + L)}, from the repacked bytes: the main chain only (the
     * minimum chain is added after it).
     */
    abstract void groupDot(int g, Activations x, int t, float[] out, int o);

    /** Row {@code row} times token t from the mapped bytes: the same chain as {@link #groupDot}. */
    abstract float rowDot(int row, Activations x, int t);

    /**
     * Group g's integers plus 8 as floats (minus the bias: the Q8 lanes' block sums are 8 times theirs),
     * element-major: {@code q[e * L + k]} is element e of row g * L + k; {@code d[b * L + k]} its block scales and
     * {@code m[b * L + k]} its minimums (types with them).
     */
    abstract void decodeGroup(int g, float[] q, float[] d, float[] m);

    /**
     * Group g's integers minus the bias as 16-bit pairs, for the {@link #shortTiles}: {@code pairs[p * L + k]} holds
     * row g * L + k's elements 2p (low half) and 2p + 1 (high half); scales and minimums as {@link #decodeGroup}.
     */
    abstract void decodePairs(int g, int[] pairs, float[] d, float[] m);

    /**
     * Row {@code row}'s integers plus 8 (minus the bias) as floats from the mapped bytes to q[qo], its block scales to
     * d[dO] and minimums to m[dO].
     */
    abstract void decodeForLanes(int row, float[] q, int qo, float[] d, float[] m, int dO);

    @Override
    public void matmul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        int n = x.tokens();
        // whole repacked groups inside the range; rows before and after them (all rows, when not repacked) come from
        // the mapped bytes
        int g0 = Math.min(groups, (rowFrom + L - 1) / L);
        int g1 = Math.max(g0, Math.min(groups, rowTo / L));
        boolean lanes = n >= LANE_BATCH && x.hasLanes();
        Scratch s = null;
        if (lanes) {
            s = SCRATCH.get();
            s.ensure(cols);
            tokensInLanesByRows(s, x, out, outStride, rowFrom, Math.min(rowTo, g0 * L));
        } else {
            rowByRow(x, out, outStride, rowFrom, Math.min(rowTo, g0 * L));
        }
        // the repacked groups: whole groups of L tokens in the lanes, the other n % L tokens per token, or in a group
        // partly filled from partialGroupFrom() on. Alternated in one process (0.5B-shaped Q4_0, two threads), per
        // token against float tiles partly filled: 4 tokens 98 against 29 tok/s, 8 tokens 116 against 60, 12 tokens
        // 124 against 88
        int whole = lanes ? (n / L + (n % L >= partialGroupFrom() ? 1 : 0)) : 0;
        if (whole > 0) {
            // token chunks whose activations stay in the L2 cache while every group of the range passes over them
            // in whole tiles of three groups (rows4x3, pairs4x3)
            int chunk = Math.max(3, CHUNK_BYTES / (cols * L * Float.BYTES) / 3 * 3);
            for (int c0 = 0; c0 < whole; c0 += chunk) {
                int c1 = Math.min(whole, c0 + chunk);
                for (int g = g0; g < g1; g++) {
                    tokensInLanes(s, g, x, out, outStride, c0, c1, c1 == whole);
                }
            }
        }
        for (int g = g0; g < g1; g++) {
            for (int t = Math.min(n, whole * L); t < n; t++) { // the group stays in the cache from one token to the next
                groupDot(g, x, t, out, t * outStride + g * L);
                if (hasMins) {
                    addGroupMinChain(g, x, t, out, t * outStride + g * L);
                }
            }
        }
        if (lanes) {
            tokensInLanesByRows(s, x, out, outStride, Math.max(rowFrom, g1 * L), rowTo);
        } else {
            rowByRow(x, out, outStride, Math.max(rowFrom, g1 * L), rowTo);
        }
    }

    private void rowByRow(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        for (int r = rowFrom; r < rowTo; r++) {
            for (int t = 0; t < x.tokens(); t++) { // the row stays in the cache from one token to the next
                out[t * outStride + r] = rowDot(r, x, t);
            }
        }
    }

    /**
     * Group g's minimum chains for token t, added to {@code out[o .. o + L)}: {@code out + macc}, macc the chain
     * {@code fma(m_w,b, s_x,b, macc)} over the blocks, one row per lane. A pass of its own: inside the single-token
     * kernels it made C2 stop inlining their vector helpers and box every vector (Q5_1 generation at half speed).
     */
    private void addGroupMinChain(int g, Activations x, int t, float[] out, int o) {
        float[] xs = x.xsum;
        int go = t * blocks;
        long base = (long) g * blocks * groupBlockBytes + minsAt;
        FloatVector macc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            macc = RowGroups.scales(packed, base + b * groupBlockBytes).fma(FloatVector.broadcast(F, xs[go + b]), macc);
        }
        FloatVector.fromArray(F, out, o).add(macc).intoArray(out, o);
    }

    /** The L rows' scales of the repacked block at p to {@code d[b * L ..]}, their minimums (types with them) to m. */
    final void blockScales(long p, int b, float[] d, float[] m) {
        RowGroups.scales(packed, p).intoArray(d, b * L);
        if (hasMins) {
            RowGroups.scales(packed, p + minsAt).intoArray(m, b * L);
        }
    }

    /** 2L packed bytes (bytes j and j + 1 of L rows) zero-extended to 2L shorts. */
    final ShortVector pairBytes(long p) {
        return RowGroups.pairBytes(packed, p);
    }

    /** Two 16-bit integers (low, high) in every 32-bit lane, as 2L shorts. */
    static ShortVector broadcastPair(int pair) {
        return RowGroups.broadcastPair(pair);
    }

    // ---- batches: tokens in the lanes ----------------------------------------------------------------------------

    /**
     * Group g decoded (values plus 8 as floats, scales), then for each four of its rows and each group of L tokens in
     * [tgFrom, tgTo) the block chain with the tokens in the lanes; activations come from {@link Activations#lanes}.
     * The minimum chains run once for every token of the token groups before {@code tgTo}, with the {@code last}
     * chunk.
     */
    private void tokensInLanes(Scratch s, int g, Activations x, float[] out, int outStride, int tgFrom, int tgTo,
            boolean last) {
        if (shortTiles) {
            decodePairs(g, s.pairs, s.d, s.m);
            for (int k = 0; k < L; k += 4) {
                int tg = tgFrom;
                for (; tg + 3 <= tgTo; tg += 3) {
                    pairs4x3(s, k, x, tg, out, outStride, g * L + k, x.tokens());
                }
                for (; tg < tgTo; tg++) {
                    pairs4(s, k, x, tg, out, outStride, g * L + k, x.tokens());
                }
            }
        } else {
            decodeGroup(g, s.q, s.d, s.m);
            Tile w = s.tile;
            for (int k = 0; k < L; k += 4) {
                w.set(s.q, s.d, k, 1, L, k, 1, L); // element-major: q[e * L + k], d[b * L + k]
                rowsInTiles(s, w, x, out, outStride, g * L + k, tgFrom, tgTo);
            }
        }
        if (hasMins && last) {
            for (int k = 0; k < L; k++) {
                addMinChain(s, s.m, k, L, x, out, outStride, g * L + k, Math.min(x.tokens(), tgTo * L));
            }
        }
    }

    /**
     * Rows r..r+3 (rows k..k+3 of the group in {@link Scratch#pairs}) times token groups tg, tg + 1 and tg + 2, in
     * 16-bit lanes: per pair of elements, a vector of the L tokens' two activation integers ({@link
     * Activations#lanePairs}) times a row's pair broadcast into every 32-bit lane, added up over the block's 16
     * pairs (at most 16 * 16 * 127 in magnitude); {@link #addBlock} then takes each block's sums on. A 16-bit
     * multiply gives twice the products of a float FMA and waits on no earlier result, so a tile needs fewer
     * independent chains.
     */
    private void pairs4x3(Scratch s, int k, Activations x, int tg, float[] out, int outStride, int r, int n) {
        int[] w = s.pairs;
        int[] sums = s.sums;
        int[] xp = x.lanePairs;
        int half = cols / 2;
        int xo = tg * half * L;
        int xo2 = xo + half * L;
        int xo3 = xo2 + half * L;
        ShortVector zs = ShortVector.zero(S2);
        java.util.Arrays.fill(s.acc, 0, 12 * L, 0f);
        for (int b = 0; b < blocks; b++) {
            ShortVector s0 = zs, s1 = zs, s2 = zs, s3 = zs, t0 = zs, t1 = zs, t2 = zs, t3 = zs, u0 = zs, u1 = zs,
                    u2 = zs, u3 = zs;
            for (int p = 16 * b; p < 16 * b + 16; p++) {
                ShortVector xv = IntVector.fromArray(Kernels.I, xp, xo + p * L).reinterpretAsShorts();
                ShortVector yv = IntVector.fromArray(Kernels.I, xp, xo2 + p * L).reinterpretAsShorts();
                ShortVector zv = IntVector.fromArray(Kernels.I, xp, xo3 + p * L).reinterpretAsShorts();
                int wo = p * L + k;
                ShortVector v = broadcastPair(w[wo]);
                s0 = s0.add(xv.mul(v));
                t0 = t0.add(yv.mul(v));
                u0 = u0.add(zv.mul(v));
                v = broadcastPair(w[wo + 1]);
                s1 = s1.add(xv.mul(v));
                t1 = t1.add(yv.mul(v));
                u1 = u1.add(zv.mul(v));
                v = broadcastPair(w[wo + 2]);
                s2 = s2.add(xv.mul(v));
                t2 = t2.add(yv.mul(v));
                u2 = u2.add(zv.mul(v));
                v = broadcastPair(w[wo + 3]);
                s3 = s3.add(xv.mul(v));
                t3 = t3.add(yv.mul(v));
                u3 = u3.add(zv.mul(v));
            }
            // through an array: the conversion and chain step written here made the method too large for C2 to
            // inline the vector operations (NodeCountInliningCutoff), and every vector was boxed
            s0.reinterpretAsInts().intoArray(sums, 0);
            s1.reinterpretAsInts().intoArray(sums, L);
            s2.reinterpretAsInts().intoArray(sums, 2 * L);
            s3.reinterpretAsInts().intoArray(sums, 3 * L);
            t0.reinterpretAsInts().intoArray(sums, 4 * L);
            t1.reinterpretAsInts().intoArray(sums, 5 * L);
            t2.reinterpretAsInts().intoArray(sums, 6 * L);
            t3.reinterpretAsInts().intoArray(sums, 7 * L);
            u0.reinterpretAsInts().intoArray(sums, 8 * L);
            u1.reinterpretAsInts().intoArray(sums, 9 * L);
            u2.reinterpretAsInts().intoArray(sums, 10 * L);
            u3.reinterpretAsInts().intoArray(sums, 11 * L);
            addBlock(s, x, tg, 3, k, b);
        }
        for (int i = 0; i < 3; i++) {
            scatter(s.acc, 4 * L * i, tg + i, out, outStride, r, n);
        }
    }

    /** {@link #pairs4x3} for one token group. */
    private void pairs4(Scratch s, int k, Activations x, int tg, float[] out, int outStride, int r, int n) {
        int[] w = s.pairs;
        int[] sums = s.sums;
        int[] xp = x.lanePairs;
        int xo = tg * (cols / 2) * L;
        ShortVector zs = ShortVector.zero(S2);
        java.util.Arrays.fill(s.acc, 0, 4 * L, 0f);
        for (int b = 0; b < blocks; b++) {
            ShortVector s0 = zs, s1 = zs, s2 = zs, s3 = zs;
            for (int p = 16 * b; p < 16 * b + 16; p++) {
                ShortVector xv = IntVector.fromArray(Kernels.I, xp, xo + p * L).reinterpretAsShorts();
                int wo = p * L + k;
                s0 = s0.add(xv.mul(broadcastPair(w[wo])));
                s1 = s1.add(xv.mul(broadcastPair(w[wo + 1])));
                s2 = s2.add(xv.mul(broadcastPair(w[wo + 2])));
                s3 = s3.add(xv.mul(broadcastPair(w[wo + 3])));
            }
            s0.reinterpretAsInts().intoArray(sums, 0);
            s1.reinterpretAsInts().intoArray(sums, L);
            s2.reinterpretAsInts().intoArray(sums, 2 * L);
            s3.reinterpretAsInts().intoArray(sums, 3 * L);
            addBlock(s, x, tg, 1, k, b);
        }
        scatter(s.acc, 0, tg, out, outStride, r, n);
    }

    /**
     * Block b's 16-bit sums of rows k..k+3 (group-relative) and token groups tg.. tg + count - 1, at
     * {@code sums[(i * 4 + row) * L]}: the two halves of each 32-bit lane sign-extended and added, which is the
     * block's exact integer sum for that token, converted to float, then the chain step as in {@link #rows4}:
     * {@code acc = fma(isum, d_x * d_w, acc)}.
     */
    private void addBlock(Scratch s, Activations x, int tg, int count, int k, int b) {
        int[] sums = s.sums;
        float[] acc = s.acc;
        float[] d = s.d;
        float[] dl = x.laneScales;
        for (int i = 0; i < count; i++) {
            FloatVector dx = FloatVector.fromArray(F, dl, ((tg + i) * blocks + b) * L);
            for (int row = 0; row < 4; row++) {
                int o = (4 * i + row) * L;
                IntVector v = IntVector.fromArray(Kernels.I, sums, o);
                IntVector isum = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16));
                ((FloatVector) isum.convert(VectorOperators.I2F, 0))
                        .fma(dx.mul(d[b * L + k + row]), FloatVector.fromArray(F, acc, o)).intoArray(acc, o);
            }
        }
    }

    /**
     * Row r's minimum chain for tokens [0, n), added to its outputs: {@code macc = fma(m_w,b, s_x,b, macc)} over the
     * blocks with the tokens in the lanes, then {@code out = out + macc}. Its minimums are at
     * {@code m[m0 + b * blockStride]}.
     */
    private void addMinChain(Scratch s, float[] m, int m0, int blockStride, Activations x, float[] out, int outStride,
            int r, int n) {
        float[] sl = x.laneMins;
        float[] tmp = s.lanes;
        for (int tg = 0; tg * L < n; tg++) {
            int bo = tg * blocks * L;
            FloatVector macc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                macc = FloatVector.broadcast(F, m[m0 + b * blockStride]).fma(FloatVector.fromArray(F, sl, bo + b * L), macc);
            }
            macc.intoArray(tmp, 0);
            for (int i = 0, t = tg * L; i < L && t < n; i++, t++) {
                out[t * outStride + r] = out[t * outStride + r] + tmp[i];
            }
        }
    }

    /** Rows [rowFrom, rowTo) from the mapped bytes: four rows decoded at a time, row-major, then the same tiles. */
    private void tokensInLanesByRows(Scratch s, Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        int r = rowFrom;
        Tile w = s.tile;
        for (; r + 4 <= rowTo; r += 4) {
            for (int k = 0; k < 4; k++) {
                decodeForLanes(r + k, s.q, k * cols, s.d, s.m, k * blocks);
            }
            w.set(s.q, s.d, 0, cols, 1, 0, blocks, 1); // row-major: q[k * cols + e], d[k * blocks + b]
            rowsInTiles(s, w, x, out, outStride, r, 0, (x.tokens() + L - 1) / L);
            if (hasMins) {
                for (int k = 0; k < 4; k++) {
                    addMinChain(s, s.m, k * blocks, 1, x, out, outStride, r + k, x.tokens());
                }
            }
        }
        rowByRow(x, out, outStride, r, rowTo);
    }

    /** The four rows of tile w (rows r..r+3) times token groups [tgFrom, tgTo). */
    private void rowsInTiles(Scratch s, Tile w, Activations x, float[] out, int outStride, int r, int tgFrom, int tgTo) {
        int n = x.tokens();
        int tg = tgFrom;
        for (; tg + 3 <= tgTo; tg += 3) {
            rows4x3(s, w, x, tg, out, outStride, r, n);
        }
        for (; tg + 2 <= tgTo; tg += 2) {
            rows4x2(s, w, x, tg, out, outStride, r, n);
        }
        if (tg < tgTo) {
            rows4(s, w, x, tg, out, outStride, r, n);
        }
    }

    /** Rows r..r+3 (tile w) times token group tg. */
    private void rows4(Scratch s, Tile w, Activations x, int tg, float[] out, int outStride, int r, int n) {
        float[] q = w.q;
        float[] d = w.d;
        int qs = w.rowStride, es = w.elementStride, ds = w.scaleRowStride, bs = w.blockStride;
        float[] xl = x.lanes;
        float[] dl = x.laneScales;
        float[] sl = x.laneSums;
        int xo = tg * cols * L;
        int bo = tg * blocks * L;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
        for (int b = 0; b < blocks; b++) {
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            int e0 = 32 * b;
            for (int e = e0; e < e0 + 32; e++) {
                FloatVector xv = FloatVector.fromArray(F, xl, xo + e * L);
                int qe = w.q0 + e * es;
                s0 = xv.fma(FloatVector.broadcast(F, q[qe]), s0);
                s1 = xv.fma(FloatVector.broadcast(F, q[qe + qs]), s1);
                s2 = xv.fma(FloatVector.broadcast(F, q[qe + 2 * qs]), s2);
                s3 = xv.fma(FloatVector.broadcast(F, q[qe + 3 * qs]), s3);
            }
            FloatVector bias = FloatVector.fromArray(F, sl, bo + b * L);
            FloatVector dx = FloatVector.fromArray(F, dl, bo + b * L);
            int db = w.d0 + b * bs;
            a0 = s0.sub(bias).fma(dx.mul(d[db]), a0);
            a1 = s1.sub(bias).fma(dx.mul(d[db + ds]), a1);
            a2 = s2.sub(bias).fma(dx.mul(d[db + 2 * ds]), a2);
            a3 = s3.sub(bias).fma(dx.mul(d[db + 3 * ds]), a3);
        }
        float[] tmp = s.lanes;
        a0.intoArray(tmp, 0);
        a1.intoArray(tmp, L);
        a2.intoArray(tmp, 2 * L);
        a3.intoArray(tmp, 3 * L);
        scatter(tmp, tg, out, outStride, r, n);
    }

    /**
     * {@link #rows4} for token groups tg and tg + 1 at once: each broadcast weight feeds two FMAs (same operations per
     * token).
     */
    private void rows4x2(Scratch s, Tile w, Activations x, int tg, float[] out, int outStride, int r, int n) {
        float[] q = w.q;
        float[] d = w.d;
        int qs = w.rowStride, es = w.elementStride, ds = w.scaleRowStride, bs = w.blockStride;
        float[] xl = x.lanes;
        float[] dl = x.laneScales;
        float[] sl = x.laneSums;
        int xo = tg * cols * L;
        int xo2 = xo + cols * L;
        int bo = tg * blocks * L;
        int bo2 = bo + blocks * L;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, c0 = z, c1 = z, c2 = z, c3 = z;
        for (int b = 0; b < blocks; b++) {
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z, t0 = z, t1 = z, t2 = z, t3 = z;
            int e0 = 32 * b;
            for (int e = e0; e < e0 + 32; e++) {
                FloatVector xv = FloatVector.fromArray(F, xl, xo + e * L);
                FloatVector yv = FloatVector.fromArray(F, xl, xo2 + e * L);
                int qe = w.q0 + e * es;
                FloatVector v = FloatVector.broadcast(F, q[qe]);
                s0 = xv.fma(v, s0);
                t0 = yv.fma(v, t0);
                v = FloatVector.broadcast(F, q[qe + qs]);
                s1 = xv.fma(v, s1);
                t1 = yv.fma(v, t1);
                v = FloatVector.broadcast(F, q[qe + 2 * qs]);
                s2 = xv.fma(v, s2);
                t2 = yv.fma(v, t2);
                v = FloatVector.broadcast(F, q[qe + 3 * qs]);
                s3 = xv.fma(v, s3);
                t3 = yv.fma(v, t3);
            }
            FloatVector bias = FloatVector.fromArray(F, sl, bo + b * L);
            FloatVector dx = FloatVector.fromArray(F, dl, bo + b * L);
            int db = w.d0 + b * bs;
            a0 = s0.sub(bias).fma(dx.mul(d[db]), a0);
            a1 = s1.sub(bias).fma(dx.mul(d[db + ds]), a1);
            a2 = s2.sub(bias).fma(dx.mul(d[db + 2 * ds]), a2);
            a3 = s3.sub(bias).fma(dx.mul(d[db + 3 * ds]), a3);
            FloatVector bias2 = FloatVector.fromArray(F, sl, bo2 + b * L);
            FloatVector dx2 = FloatVector.fromArray(F, dl, bo2 + b * L);
            c0 = t0.sub(bias2).fma(dx2.mul(d[db]), c0);
            c1 = t1.sub(bias2).fma(dx2.mul(d[db + ds]), c1);
            c2 = t2.sub(bias2).fma(dx2.mul(d[db + 2 * ds]), c2);
            c3 = t3.sub(bias2).fma(dx2.mul(d[db + 3 * ds]), c3);
        }
        float[] tmp = s.lanes; // vectors go through an array: as arguments of a call the JIT may not inline, they would be boxed
        a0.intoArray(tmp, 0);
        a1.intoArray(tmp, L);
        a2.intoArray(tmp, 2 * L);
        a3.intoArray(tmp, 3 * L);
        scatter(tmp, tg, out, outStride, r, n);
        c0.intoArray(tmp, 0);
        c1.intoArray(tmp, L);
        c2.intoArray(tmp, 2 * L);
        c3.intoArray(tmp, 3 * L);
        scatter(tmp, tg + 1, out, outStride, r, n);
    }

    /**
     * {@link #rows4} for token groups tg, tg + 1 and tg + 2 at once: twelve independent FMA chains, enough to keep both
     * FMA units busy through each chain's latency (same operations per token).
     */
    private void rows4x3(Scratch s, Tile w, Activations x, int tg, float[] out, int outStride, int r, int n) {
        float[] q = w.q;
        float[] d = w.d;
        int qs = w.rowStride, es = w.elementStride, ds = w.scaleRowStride, bs = w.blockStride;
        float[] xl = x.lanes;
        float[] dl = x.laneScales;
        float[] sl = x.laneSums;
        int xo = tg * cols * L;
        int xo2 = xo + cols * L;
        int xo3 = xo2 + cols * L;
        int bo = tg * blocks * L;
        int bo2 = bo + blocks * L;
        int bo3 = bo2 + blocks * L;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, c0 = z, c1 = z, c2 = z, c3 = z, g0 = z, g1 = z, g2 = z, g3 = z;
        for (int b = 0; b < blocks; b++) {
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z, t0 = z, t1 = z, t2 = z, t3 = z, u0 = z, u1 = z, u2 = z, u3 = z;
            int e0 = 32 * b;
            for (int e = e0; e < e0 + 32; e++) {
                FloatVector xv = FloatVector.fromArray(F, xl, xo + e * L);
                FloatVector yv = FloatVector.fromArray(F, xl, xo2 + e * L);
                FloatVector zv = FloatVector.fromArray(F, xl, xo3 + e * L);
                int qe = w.q0 + e * es;
                FloatVector v = FloatVector.broadcast(F, q[qe]);
                s0 = xv.fma(v, s0);
                t0 = yv.fma(v, t0);
                u0 = zv.fma(v, u0);
                v = FloatVector.broadcast(F, q[qe + qs]);
                s1 = xv.fma(v, s1);
                t1 = yv.fma(v, t1);
                u1 = zv.fma(v, u1);
                v = FloatVector.broadcast(F, q[qe + 2 * qs]);
                s2 = xv.fma(v, s2);
                t2 = yv.fma(v, t2);
                u2 = zv.fma(v, u2);
                v = FloatVector.broadcast(F, q[qe + 3 * qs]);
                s3 = xv.fma(v, s3);
                t3 = yv.fma(v, t3);
                u3 = zv.fma(v, u3);
            }
            int db = w.d0 + b * bs;
            FloatVector bias = FloatVector.fromArray(F, sl, bo + b * L);
            FloatVector dx = FloatVector.fromArray(F, dl, bo + b * L);
            a0 = s0.sub(bias).fma(dx.mul(d[db]), a0);
            a1 = s1.sub(bias).fma(dx.mul(d[db + ds]), a1);
            a2 = s2.sub(bias).fma(dx.mul(d[db + 2 * ds]), a2);
            a3 = s3.sub(bias).fma(dx.mul(d[db + 3 * ds]), a3);
            bias = FloatVector.fromArray(F, sl, bo2 + b * L);
            dx = FloatVector.fromArray(F, dl, bo2 + b * L);
            c0 = t0.sub(bias).fma(dx.mul(d[db]), c0);
            c1 = t1.sub(bias).fma(dx.mul(d[db + ds]), c1);
            c2 = t2.sub(bias).fma(dx.mul(d[db + 2 * ds]), c2);
            c3 = t3.sub(bias).fma(dx.mul(d[db + 3 * ds]), c3);
            bias = FloatVector.fromArray(F, sl, bo3 + b * L);
            dx = FloatVector.fromArray(F, dl, bo3 + b * L);
            g0 = u0.sub(bias).fma(dx.mul(d[db]), g0);
            g1 = u1.sub(bias).fma(dx.mul(d[db + ds]), g1);
            g2 = u2.sub(bias).fma(dx.mul(d[db + 2 * ds]), g2);
            g3 = u3.sub(bias).fma(dx.mul(d[db + 3 * ds]), g3);
        }
        float[] tmp = s.lanes; // vectors go through an array: as arguments of a call the JIT may not inline, they would be boxed
        a0.intoArray(tmp, 0);
        a1.intoArray(tmp, L);
        a2.intoArray(tmp, 2 * L);
        a3.intoArray(tmp, 3 * L);
        scatter(tmp, tg, out, outStride, r, n);
        c0.intoArray(tmp, 0);
        c1.intoArray(tmp, L);
        c2.intoArray(tmp, 2 * L);
        c3.intoArray(tmp, 3 * L);
        scatter(tmp, tg + 1, out, outStride, r, n);
        g0.intoArray(tmp, 0);
        g1.intoArray(tmp, L);
        g2.intoArray(tmp, 2 * L);
        g3.intoArray(tmp, 3 * L);
        scatter(tmp, tg + 2, out, outStride, r, n);
    }

    /** tmp[k * L + i] is row r + k's value for token tg * L + i: to the tokens' output rows. */
    private static void scatter(float[] tmp, int tg, float[] out, int outStride, int r, int n) {
        scatter(tmp, 0, tg, out, outStride, r, n);
    }

    /** {@link #scatter(float[], int, float[], int, int, int)} from {@code tmp[from ..]}. */
    private static void scatter(float[] tmp, int from, int tg, float[] out, int outStride, int r, int n) {
        int tokens = Math.min(L, n - tg * L);
        int t0 = tg * L;
        for (int i = 0; i < tokens; i++) {
            int o = (t0 + i) * outStride + r;
            out[o] = tmp[from + i];
            out[o + 1] = tmp[from + L + i];
            out[o + 2] = tmp[from + 2 * L + i];
            out[o + 3] = tmp[from + 3 * L + i];
        }
    }

    /**
     * Where a tile's four decoded rows are: row k's element e at {@code q[q0 + k * rowStride + e * elementStride]},
     * its block b's scale at {@code d[d0 + k * scaleRowStride + b * blockStride]}.
     */
    private static final class Tile {
        float[] q;
        float[] d;
        int q0, rowStride, elementStride, d0, scaleRowStride, blockStride;

        void set(float[] q, float[] d, int q0, int rowStride, int elementStride, int d0, int scaleRowStride,
                int blockStride) {
            this.q = q;
            this.d = d;
            this.q0 = q0;
            this.rowStride = rowStride;
            this.elementStride = elementStride;
            this.d0 = d0;
            this.scaleRowStride = scaleRowStride;
            this.blockStride = blockStride;
        }
    }

    /** Per-thread buffers, shared by all such matrices (sized for the widest): one decoded group (or four rows). */
    private static final class Scratch {
        final float[] lanes = new float[4 * L];
        final Tile tile = new Tile();
        float[] q = new float[0];
        float[] d = new float[0];
        float[] m = new float[0];
        /** The decoded group as 16-bit pairs ({@link #decodePairs}). */
        int[] pairs = new int[0];
        /** A 16-bit tile's block sums and float chains: four rows by up to three token groups. */
        final int[] sums = new int[12 * L];
        final float[] acc = new float[12 * L];

        void ensure(int cols) {
            if (q.length < L * cols) {
                q = new float[L * cols];
                pairs = new int[L * cols / 2];
                d = new float[L * cols / 32];
                m = new float[L * cols / 32];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
}
