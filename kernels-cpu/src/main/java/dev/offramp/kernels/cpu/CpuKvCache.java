package dev.offramp.kernels.cpu;

import dev.offramp.core.backend.KvCache;
import dev.offramp.core.tensor.DType;

/**
 * Position-indexed keys and values per layer on the heap: position {@code p} of a layer occupies
 * {@code [p * kvDim, (p + 1) * kvDim)} of that layer's arrays. F16 caches store raw binary16 bits
 * in {@code short[]} and widen on read, halving memory traffic of long contexts.
 */
public final class CpuKvCache implements KvCache {
    private final int layers;
    private final int capacity;
    private final int kvDim;
    private final DType dtype;
    final float[][] keys32;
    final float[][] values32;
    final short[][] keys16;
    final short[][] values16;

    CpuKvCache(int layers, int capacity, int kvDim, DType dtype) {
        if (layers <= 0 || capacity <= 0 || kvDim <= 0) {
            throw new IllegalArgumentException("KV cache needs positive layers, capacity and kvDim, got "
                    + layers + ", " + capacity + ", " + kvDim);
        }
        if (dtype != DType.F32 && dtype != DType.F16) {
            throw new IllegalArgumentException("CPU KV cache supports F32 and F16, not " + dtype);
        }
        long perLayer = (long) capacity * kvDim;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache layer of " + capacity + " positions x " + kvDim
                    + " values exceeds one Java array; ask for a smaller context");
        }
        this.layers = layers;
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.dtype = dtype;
        int len = (int) perLayer;
        if (dtype == DType.F32) {
            keys32 = new float[layers][len];
            values32 = new float[layers][len];
            keys16 = null;
            values16 = null;
        } else {
            keys32 = null;
            values32 = null;
            keys16 = new short[layers][len];
            values16 = new short[layers][len];
        }
    }

    @Override
    public int layers() {
        return layers;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int kvDim() {
        return kvDim;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long byteSize() {
        return 2L * layers * capacity * kvDim * (dtype == DType.F32 ? 4 : 2);
    }

    @Override
    public String toString() {
        return "CpuKvCache[" + layers + " layers, " + capacity + " positions, kvDim " + kvDim + ", " + dtype + "]";
    }
}
