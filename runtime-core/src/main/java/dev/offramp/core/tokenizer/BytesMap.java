package dev.offramp.core.tokenizer;

import java.util.Arrays;

/**
 * An immutable-after-build map from byte sequences to non-negative ints, looked up by a slice of a
 * larger buffer without allocating. Tokenizer hot loops ask "is this byte range a token?" millions
 * of times per megabyte, so a {@code HashMap<String, Integer>} (a String and a boxed hash per probe)
 * would dominate encoding time.
 */
final class BytesMap {
    private byte[][] keys;
    private int[] values;
    private int size;
    private int mask;

    BytesMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new byte[cap][];
        values = new int[cap];
        mask = cap - 1;
    }

    int size() {
        return size;
    }

    private static int hash(byte[] b, int off, int len) {
        int h = 0x811C9DC5;
        for (int i = off, end = off + len; i < end; i++) {
            h = (h ^ b[i]) * 0x01000193;
        }
        // murmur3's finalizer: FNV alone leaves the low bits (the ones the mask keeps) poorly mixed
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        return h ^ (h >>> 16);
    }

    /** Adds {@code key -> value} unless the key is present; returns the value now mapped. */
    int putIfAbsent(byte[] key, int value) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int i = hash(key, 0, key.length) & mask;
        while (keys[i] != null) {
            if (Arrays.equals(keys[i], key)) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
        return value;
    }

    /** The value for {@code buf[off, off+len)}, or -1. */
    int get(byte[] buf, int off, int len) {
        int i = hash(buf, off, len) & mask;
        byte[] k;
        while ((k = keys[i]) != null) {
            if (k.length == len && Arrays.equals(k, 0, len, buf, off, off + len)) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    int get(byte[] key) {
        return get(key, 0, key.length);
    }

    private void grow() {
        byte[][] oldKeys = keys;
        int[] oldValues = values;
        keys = new byte[oldKeys.length * 2][];
        values = new int[oldKeys.length * 2];
        mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            byte[] k = oldKeys[j];
            if (k != null) {
                int i = hash(k, 0, k.length) & mask;
                while (keys[i] != null) {
                    i = (i + 1) & mask;
                }
                keys[i] = k;
                values[i] = oldValues[j];
            }
        }
    }
}
