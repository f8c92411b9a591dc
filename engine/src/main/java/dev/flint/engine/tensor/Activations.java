package dev.flint.engine.tensor;

import dev.flint.engine.parallel.WorkerPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.util.function.IntConsumer;

/**
 * The input of a matrix product for a batch of tokens, encoded once the way a weight type's dot product reads it
 * (ggml's vec_dot_type, see {@link ActivationFormat}) and then read by every row of the matrix.
 *
 * <p>F32/F16/BF16: {@link #f} holds the values (rounded to the format). 8-bit formats: {@link #f} holds the quantized
 * integers (as floats: products and block sums of such integers are exact in float, so the kernels compute
 * llama.cpp's integer dot products exactly), {@link #d} the scale of each 32 values, and {@link #xsum} what a block
 * minimum multiplies: for Q8_1 the stored {@code s = fp16(d * sum(q))}, for Q8_K the integer {@code sum(q)} per 32
 * (ggml's block sums, which llama.cpp's K-quant kernels scale only at the end); for Q8_0 the integer sum
 * {@code sum(q)} per 32 (Q4_0's kernels take the nibbles' bias of 8 off with it).
 * Layout is token-major: row t starts at {@code t * cols}; per-32 arrays at {@code t * cols / 32}.
 *
 * <p>Q8_0 and Q8_1 batches of at least {@link RowGroupMatrix#LANE_BATCH} tokens are also laid out with the tokens in
 * the vector lanes ({@link #lanes}, {@link #laneScales}, {@link #laneSums}), for kernels that compute one token per
 * lane.
 */
public final class Activations {
    public final ActivationFormat format;
    public final int cols;
    public final int capacity;
    public final float[] f;
    public final float[] d;
    public final float[] xsum;
    private int tokens;

    public Activations(ActivationFormat format, int capacity, int cols) {
        this.format = format;
        this.cols = cols;
        this.capacity = capacity;
        int block = switch (format) {
            case Q8_0, Q8_1 -> 32;
            case Q8_K -> 256;
            default -> 1;
        };
        if (cols % block != 0) {
            throw new IllegalArgumentException("row length " + cols + " is not a multiple of " + block + " for " + format);
        }
        this.f = new float[capacity * cols];
        boolean quantized = block > 1;
        this.d = quantized ? new float[capacity * (cols / 32)] : new float[0];
        this.xsum = quantized ? new float[capacity * (cols / 32)] : new float[0];
    }

    private short[] q16;
    private int[] pairs16;
    private float[] planes;
    private float[] pairScales;

    /**
     * Q8_0 and Q8_1 batches of {@link RowGroupMatrix#LANE_BATCH} or more tokens, tokens in lanes: groups of {@code L}
     * tokens (the float vector length; the last group padded with zeros); in group g, element i of token g * L + j is at
     * {@code lanes[(g * cols + i) * L + j]}, its block's scale at {@code laneScales[(g * cols / 32 + i / 32) * L + j]}
     * and {@code 8 * sum(q)} of its block at the same index of {@code laneSums}. Null until a batch needs them.
     */
    float[] lanes;
    float[] laneScales;
    float[] laneSums;
    /** Q8_1 lanes only: llama.cpp's fp16 {@code s = d * sum(q)} of each block, laid out as {@link #laneSums}. */
    float[] laneMins;
    /**
     * The integers of {@link #lanes} two elements to an int, for kernels that multiply in 16-bit lanes: token j of
     * group g's elements 2p and 2p + 1 at {@code lanePairs[(g * cols / 2 + p) * L + j]} (low and high half).
     */
    int[] lanePairs;
    private boolean hasLanes;

    /** Whether {@link #lanes} hold the current batch. */
    boolean hasLanes() {
        return hasLanes;
    }

    /**
     * Q8_0, Q8_1 and Q8_K: the quantized integers as shorts, token-major like {@link #f}, for the single-token kernels
     * (which multiply them with the weights in 16-bit lanes). Built on first use for each batch.
     */
    short[] q16() {
        if (shortsStale) {
            buildShorts();
        }
        return q16;
    }

    /**
     * Q8_0, Q8_1 and Q8_K: neighbouring quantized integers two by two in one int, {@code pairs16[i] = q[2i] & 0xFFFF | q[2i + 1]
     * << 16} (token-major, {@code cols / 2} per token): broadcast to a vector and seen as shorts, it multiplies bytes
     * 2i and 2i + 1 of many rows side by side (the row groups' single-token kernels).
     * Built on first use for each batch.
     */
    int[] pairs16() {
        if (pairsStale) {
            buildPairs();
        }
        return pairs16;
    }

    /**
     * Q8_0 batches of at least {@link #PLANE_BATCH} tokens only: tokens 2p and 2p + 1 side by side, each block of 32
     * split into its four "planes" the way llama.cpp's 8-lane kernels sum them (lane i of plane e holds element
     * 4i + e). Pair p starts at {@code p * 2 * cols}; within it block b at {@code 64 b}, plane e at {@code + 16 e},
     * token 2p + h at {@code + 8 h}. A missing last token is zeros, and so is a missing last pair (the kernels take
     * pairs two at a time). Built in {@link #set} for the batch sizes that read them, else on first use.
     */
    float[] planes() {
        if (planesStale) {
            buildPlanes();
        }
        return planes;
    }

    /** With {@link #planes}: per pair p and block b, 16 floats, token 2p's scale 8 times then token 2p + 1's. */
    float[] pairScales() {
        if (planesStale) {
            buildPlanes();
        }
        return pairScales;
    }

    /*
     * The shorts, pairs and planes serve only some kernels (single tokens and small batches, rows outside whole
     * tiles, machines without AVX-512), so a batch builds them on first use: a prompt batch on AVX-512 reads none of
     * them, and building them took about a third of its encoding time. First use may come from several pool threads
     * at once, hence the lock; the flags are volatile so that a thread that finds one cleared also sees the array.
     */
    private volatile boolean shortsStale, pairsStale, planesStale;

    private synchronized void buildShorts() {
        if (shortsStale) {
            for (int i = 0; i < tokens * cols; i++) {
                q16[i] = (short) f[i];
            }
            shortsStale = false;
        }
    }

    private synchronized void buildPairs() {
        if (pairsStale) {
            short[] q = q16();
            for (int i = 0; i < tokens * cols / 2; i++) {
                pairs16[i] = q[2 * i] & 0xFFFF | q[2 * i + 1] << 16;
            }
            pairsStale = false;
        }
    }

    private synchronized void buildPlanes() {
        if (planesStale) {
            setPlanes(tokens, null);
            planesStale = false;
        }
    }

    /**
     * Batches from this size on get {@link #planes}; smaller ones take the single-token kernel per token, 16 rows at a
     * time so the rows stay in the cache between tokens. Alternated in one process (0.5B-shaped Q8_0, two threads),
     * the per-token kernel was faster up to 16 tokens (4: 53 -> 71 tok/s, 9: 59 -> 64, 13: 84 -> 91) and the planes
     * from 20 on (20: 97 against 90, 28: 104 against 94). Q8_0 matrices on AVX-512 now run 11-16 tokens with the
     * tokens in the lanes instead (faster than both there: {@code LegacyQuants.Q8_0.LANES_SMALL}).
     */
    static final int PLANE_BATCH = 16;

    /** Number of tokens currently encoded. */
    public int tokens() {
        return tokens;
    }

    /** Encodes {@code n} rows of {@code cols} floats from {@code x} (row t at {@code x[t * stride]}). */
    public void set(float[] x, int stride, int n) {
        set(x, stride, n, null);
    }

    /**
     * {@link #set(float[], int, int)} spread over {@code pool} (null: on the calling thread). Every token's rows,
     * and every lane group and plane pair, are written by one task, so the result does not depend on the split; a
     * prompt batch's encoding was otherwise single-threaded work between the matrix products.
     */
    public void set(float[] x, int stride, int n, WorkerPool pool) {
        if (n > capacity) {
            throw new IllegalArgumentException("batch of " + n + " exceeds capacity " + capacity);
        }
        boolean integers = format == ActivationFormat.Q8_0 || format == ActivationFormat.Q8_1
                || format == ActivationFormat.Q8_K;
        if (integers && q16 == null) {
            q16 = new short[f.length];
        }
        boolean pairs = integers;
        if (pairs && pairs16 == null) {
            pairs16 = new int[f.length / 2];
        }
        int perTask = Math.max(1, ENCODE_CHUNK / cols);
        int tasks = (n + perTask - 1) / perTask;
        if (pool == null || tasks == 1) { // a decode step's row: no loop object, so the decode loop allocates nothing
            encodeRows(x, stride, 0, n);
        } else {
            pool.parallelFor(tasks, k -> encodeRows(x, stride, k * perTask, Math.min(n, (k + 1) * perTask)));
        }
        tokens = n;
        shortsStale = integers;
        pairsStale = pairs;
        hasLanes = integers && n >= RowGroupMatrix.LANE_BATCH;
        if (hasLanes) {
            transposeToLanes(n, pool);
        }
        boolean planesUsed = format == ActivationFormat.Q8_0 && n >= PLANE_BATCH;
        // built here, on the pool, for the batch sizes whose Q8_0 products read them (LegacyQuants.Q8_0.matmul: all
        // without AVX-512); for any other reader on first use (with AVX-512 only rows that are not repacked, and
        // only for 17-31 tokens)
        boolean lanesInstead = LegacyQuants.Q8_0.WIDE && Kernels.L == 16;
        planesStale = planesUsed && lanesInstead;
        if (planesUsed && !lanesInstead) {
            setPlanes(n, pool);
        }
    }

    private void encodeRows(float[] x, int stride, int from, int to) {
        for (int t = from; t < to; t++) {
            encodeRow(x, t * stride, t * cols, t * (cols / 32));
        }
    }

    /** Values per encoding task: enough to amortise the hand-off; a single token's row runs inline. */
    private static final int ENCODE_CHUNK = 8192;

    private static void forEach(WorkerPool pool, int tasks, IntConsumer body) {
        if (pool == null) {
            for (int k = 0; k < tasks; k++) {
                body.accept(k);
            }
        } else {
            pool.parallelFor(tasks, body);
        }
    }

    private void setPlanes(int n, WorkerPool pool) {
        int pairs = (n + 1) / 2;
        int blocks = cols / 32;
        if (planes == null) {
            int cap = (capacity + 3) / 4 * 2; // whole pairs of pairs: the kernels take two at a time
            planes = new float[cap * 2 * cols];
            pairScales = new float[cap * 16 * blocks];
        }
        if (pairs % 2 == 1) {
            java.util.Arrays.fill(planes, pairs * 2 * cols, (pairs + 1) * 2 * cols, 0f);
            java.util.Arrays.fill(pairScales, pairs * 16 * blocks, (pairs + 1) * 16 * blocks, 0f);
        }
        int perTask = Math.max(1, ENCODE_CHUNK / (2 * cols));
        forEach(pool, (pairs + perTask - 1) / perTask, k -> {
            for (int p = k * perTask; p < Math.min(pairs, (k + 1) * perTask); p++) {
                setPlanes(n, p, blocks);
            }
        });
    }

    /** Pair p of {@link #setPlanes(int, WorkerPool)}. */
    private void setPlanes(int n, int p, int blocks) {
        for (int h = 0; h < 2; h++) {
            int t = 2 * p + h;
            int po = p * 2 * cols + 8 * h;
            int so = p * 16 * blocks + 8 * h;
            for (int b = 0; b < blocks; b++) {
                float scale = t < n ? d[t * blocks + b] : 0f;
                for (int i = 0; i < 8; i++) {
                    pairScales[so + 16 * b + i] = scale;
                    for (int e = 0; e < 4; e++) {
                        planes[po + 64 * b + 16 * e + i] = t < n ? f[t * cols + 32 * b + 4 * i + e] : 0f;
                    }
                }
            }
        }
    }

    private void transposeToLanes(int n, WorkerPool pool) {
        int lanesPer = Kernels.L;
        int groups = (n + lanesPer - 1) / lanesPer;
        int blocks = cols / 32;
        int size = groups * lanesPer * cols;
        if (lanes == null || lanes.length < size) {
            int capGroups = (capacity + lanesPer - 1) / lanesPer;
            lanes = new float[capGroups * lanesPer * cols];
            laneScales = new float[capGroups * lanesPer * blocks];
            laneSums = new float[capGroups * lanesPer * blocks];
            laneMins = format == ActivationFormat.Q8_1 ? new float[capGroups * lanesPer * blocks] : null;
            // the 16-bit tiles of RowGroupMatrix (Q8_0 and Q8_1 input); K-quants' Q8_K lanes do not read them
            lanePairs = format == ActivationFormat.Q8_K ? null : new int[capGroups * lanesPer * cols / 2];
        }
        forEach(pool, groups, g -> transposeGroup(n, g, lanesPer, blocks));
    }

    /** Token group g of {@link #transposeToLanes}. */
    private void transposeGroup(int n, int g, int lanesPer, int blocks) {
        for (int j = 0; j < lanesPer; j++) {
            int t = g * lanesPer + j;
            boolean real = t < n;
            for (int i = 0; i < cols; i++) {
                lanes[(g * cols + i) * lanesPer + j] = real ? f[t * cols + i] : 0f;
            }
            for (int p = 0; lanePairs != null && p < cols / 2; p++) {
                lanePairs[(g * cols / 2 + p) * lanesPer + j] =
                        real ? (int) f[t * cols + 2 * p] & 0xFFFF | (int) f[t * cols + 2 * p + 1] << 16 : 0;
            }
            for (int b = 0; b < blocks; b++) {
                laneScales[(g * blocks + b) * lanesPer + j] = real ? d[t * blocks + b] : 0f;
                if (format == ActivationFormat.Q8_1) { // xsum holds s = d * sum(q); the integer sum is needed too
                    laneSums[(g * blocks + b) * lanesPer + j] = real ? 8f * blockSum(t * cols + 32 * b, 32) : 0f;
                    laneMins[(g * blocks + b) * lanesPer + j] = real ? xsum[t * blocks + b] : 0f;
                } else {
                    laneSums[(g * blocks + b) * lanesPer + j] = real ? 8f * xsum[t * blocks + b] : 0f;
                }
            }
        }
    }

    private void encodeRow(float[] x, int off, int o, int g) {
        switch (format) {
            case F32 -> System.arraycopy(x, off, f, o, cols);
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    f[o + i] = Numerics.roundToF16(x[off + i]);
                }
            }
            case BF16 -> {
                for (int i = 0; i < cols; i++) {
                    f[o + i] = Numerics.bf16ToFloat(Numerics.floatToBf16(x[off + i]));
                }
            }
            case Q8_0, Q8_1 -> {
                for (int b = 0; b < cols / 32; b++) {
                    float scale = Quantize.q8_0Block(x, off + 32 * b, f, o + 32 * b);
                    d[g + b] = scale;
                    if (format == ActivationFormat.Q8_1) {
                        xsum[g + b] = Numerics.roundToF16(scale * blockSum(o + 32 * b, 32));
                    } else {
                        xsum[g + b] = blockSum(o + 32 * b, 32);
                    }
                }
            }
            case Q8_K -> {
                for (int b = 0; b < cols / 256; b++) {
                    float scale = Quantize.q8_KBlock(x, off + 256 * b, f, o + 256 * b);
                    for (int k = 0; k < 8; k++) {
                        d[g + 8 * b + k] = scale;
                        xsum[g + 8 * b + k] = blockSum(o + 256 * b + 32 * k, 32);
                    }
                }
            }
        }
    }

    /** Sum of n (a multiple of the vector length) quantized integers: exact in float, so in any order. */
    private float blockSum(int from, int n) {
        FloatVector v = FloatVector.fromArray(Kernels.F, f, from);
        for (int i = Kernels.L; i < n; i += Kernels.L) {
            v = v.add(FloatVector.fromArray(Kernels.F, f, from + i));
        }
        return v.reduceLanes(VectorOperators.ADD);
    }
}
