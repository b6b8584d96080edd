package dev.offramp.core.tokenizer;

import java.util.Arrays;

/** Open-addressing {@code long -> int} map (BPE merge ranks keyed by a pair of symbol ids); -1 = absent. */
final class LongIntMap {
    private long[] keys;
    private int[] values;
    private int size;
    private int mask;

    LongIntMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(values, -1);
        mask = cap - 1;
    }

    private static int slot(long k) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    /** Keeps the first value put for a key (llama.cpp keeps the first rank of a duplicated merge). */
    void putIfAbsent(long key, int value) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int i = slot(key) & mask;
        while (values[i] >= 0) {
            if (keys[i] == key) {
                return;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
    }

    int get(long key) {
        int i = slot(key) & mask;
        int v;
        while ((v = values[i]) >= 0) {
            if (keys[i] == key) {
                return v;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    private void grow() {
        long[] ok = keys;
        int[] ov = values;
        keys = new long[ok.length * 2];
        values = new int[ok.length * 2];
        Arrays.fill(values, -1);
        mask = keys.length - 1;
        for (int j = 0; j < ok.length; j++) {
            if (ov[j] >= 0) {
                int i = slot(ok[j]) & mask;
                while (values[i] >= 0) {
                    i = (i + 1) & mask;
                }
                keys[i] = ok[j];
                values[i] = ov[j];
            }
        }
    }
}
