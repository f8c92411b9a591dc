package dev.flint.engine.tokenizer;

import java.util.Arrays;

/**
 * Min-heap of candidate merges of adjacent symbols, ordered by a long priority (smaller first). Entries live in
 * parallel arrays so that tokenizing allocates nothing per candidate; stale entries are skipped by the caller.
 */
final class BigramHeap {
    private long[] priority = new long[64];
    private int[] left = new int[64];
    private int[] right = new int[64];
    private int[] size = new int[64];
    private int n;

    // results of the last poll()
    int polledLeft;
    int polledRight;
    int polledSize;
    long polledPriority;

    void clear() {
        n = 0;
    }

    boolean isEmpty() {
        return n == 0;
    }

    void push(long prio, int l, int r, int sz) {
        if (n == priority.length) {
            int cap = n * 2;
            priority = Arrays.copyOf(priority, cap);
            left = Arrays.copyOf(left, cap);
            right = Arrays.copyOf(right, cap);
            size = Arrays.copyOf(size, cap);
        }
        int i = n++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (priority[parent] <= prio) {
                break;
            }
            move(parent, i);
            i = parent;
        }
        set(i, prio, l, r, sz);
    }

    /** Removes the smallest entry into the polled* fields. */
    void poll() {
        polledPriority = priority[0];
        polledLeft = left[0];
        polledRight = right[0];
        polledSize = size[0];
        n--;
        if (n == 0) {
            return;
        }
        long prio = priority[n];
        int l = left[n];
        int r = right[n];
        int sz = size[n];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= n) {
                break;
            }
            if (child + 1 < n && priority[child + 1] < priority[child]) {
                child++;
            }
            if (priority[child] >= prio) {
                break;
            }
            move(child, i);
            i = child;
        }
        set(i, prio, l, r, sz);
    }

    private void move(int from, int to) {
        priority[to] = priority[from];
        left[to] = left[from];
        right[to] = right[from];
        size[to] = size[from];
    }

    private void set(int i, long prio, int l, int r, int sz) {
        priority[i] = prio;
        left[i] = l;
        right[i] = r;
        size[i] = sz;
    }
}
