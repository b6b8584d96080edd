package dev.offramp.core.tokenizer;

/**
 * Binary min-heap of candidate merges of adjacent symbols, ordered by {@code priority} and then by
 * the left symbol's index: the order llama.cpp's priority queues pop in (lowest BPE rank, or highest
 * SentencePiece score, with ties going to the leftmost pair). Stale entries are not removed; the
 * caller checks them when popped. Primitive arrays keep a 1 MB word at a few million entries cheap.
 */
final class MergeQueue {
    private long[] prio = new long[64];
    private int[] left = new int[64];
    private int[] right = new int[64];
    private int[] size = new int[64];
    private int n;

    // results of the last poll()
    long topPriority;
    int topLeft;
    int topRight;
    int topSize;

    boolean isEmpty() {
        return n == 0;
    }

    void clear() {
        n = 0;
    }

    private boolean less(int a, int b) {
        return prio[a] < prio[b] || (prio[a] == prio[b] && left[a] < left[b]);
    }

    private void swap(int a, int b) {
        long p = prio[a]; prio[a] = prio[b]; prio[b] = p;
        int t = left[a]; left[a] = left[b]; left[b] = t;
        t = right[a]; right[a] = right[b]; right[b] = t;
        t = size[a]; size[a] = size[b]; size[b] = t;
    }

    void push(long priority, int l, int r, int sz) {
        if (n == prio.length) {
            int cap = n * 2;
            prio = java.util.Arrays.copyOf(prio, cap);
            left = java.util.Arrays.copyOf(left, cap);
            right = java.util.Arrays.copyOf(right, cap);
            size = java.util.Arrays.copyOf(size, cap);
        }
        prio[n] = priority;
        left[n] = l;
        right[n] = r;
        size[n] = sz;
        int i = n++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!less(i, parent)) {
                break;
            }
            swap(i, parent);
            i = parent;
        }
    }

    /** Removes the best entry into the {@code top*} fields. */
    void poll() {
        topPriority = prio[0];
        topLeft = left[0];
        topRight = right[0];
        topSize = size[0];
        n--;
        if (n > 0) {
            prio[0] = prio[n];
            left[0] = left[n];
            right[0] = right[n];
            size[0] = size[n];
            int i = 0;
            while (true) {
                int l = 2 * i + 1;
                if (l >= n) {
                    break;
                }
                int best = l;
                if (l + 1 < n && less(l + 1, l)) {
                    best = l + 1;
                }
                if (!less(best, i)) {
                    break;
                }
                swap(i, best);
                i = best;
            }
        }
    }
}
