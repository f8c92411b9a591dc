package dev.flint.engine.model;

import dev.flint.engine.kv.KvCache;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * A prompt batch's product with V stops at each token's position rounded up to 16 only while every value it skips is
 * finite: llama.cpp multiplies the masked cells too, and 0 * inf or 0 * NaN would reach its result.
 */
class ValueSpansTest {
    private static final int LAYERS = 2;
    private static final int KV_DIM = 4;

    @Test
    void spansStopAtTheTokensOwnSixteenWhileTheSkippedValuesAreFinite() {
        KvCache cache = new KvCache(LAYERS, 64, KV_DIM);
        Batch b = batch(cache, 0, 1, 15, 16, 17, 40);
        int[] nkv = {64, 64, 64, 64, 64, 64};
        int[] spans = new int[6];
        Transformer.valueSpans(b, 1, nkv, spans);
        assertArrayEquals(new int[] {16, 16, 16, 32, 32, 48}, spans);
    }

    @Test
    void aNonFiniteValueAnywhereInTheSkippedCellsKeepsTheWholeRow() {
        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}) {
            for (int cell : new int[] {16, 40, 63}) {
                KvCache cache = new KvCache(LAYERS, 64, KV_DIM);
                cache.values(1)[(KV_DIM - 1) * cache.cells() + cell] = bad; // last row, one cell
                Batch b = batch(cache, 0, 5, 9);
                int[] spans = new int[3];
                Transformer.valueSpans(b, 1, new int[] {64, 64, 64}, spans);
                assertArrayEquals(new int[] {64, 64, 64}, spans, "value " + bad + " at cell " + cell);
                Transformer.valueSpans(b, 0, new int[] {64, 64, 64}, spans); // the other layer is clean
                assertArrayEquals(new int[] {16, 16, 16}, spans, "layer 0, value " + bad + " at cell " + cell);
            }
        }
        KvCache cache = new KvCache(LAYERS, 64, KV_DIM);
        cache.values(1)[3] = Float.POSITIVE_INFINITY; // inside every token's own span: computed anyway
        int[] spans = new int[2];
        Transformer.valueSpans(batch(cache, 4, 5), 1, new int[] {32, 32}, spans);
        assertArrayEquals(new int[] {16, 16}, spans);
    }

    @Test
    void eachSequenceOfAMixedBatchIsCheckedOnItsOwn() {
        KvCache clean = new KvCache(LAYERS, 64, KV_DIM);
        KvCache dirty = new KvCache(LAYERS, 64, KV_DIM);
        dirty.values(0)[50] = Float.NaN;
        Batch b = new Batch().clear().add(1, 3, clean, false).add(1, 7, dirty, false).add(1, 4, clean, true)
                .add(1, 8, dirty, true);
        int[] spans = new int[4];
        Transformer.valueSpans(b, 0, new int[] {32, 64, 32, 64}, spans);
        assertArrayEquals(new int[] {16, 64, 16, 64}, spans);
    }

    private static Batch batch(KvCache cache, int... positions) {
        Batch b = new Batch().clear();
        for (int p : positions) {
            b.add(1, p, cache, true);
        }
        return b;
    }
}
