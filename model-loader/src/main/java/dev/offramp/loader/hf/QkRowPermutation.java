package dev.offramp.loader.hf;

import dev.offramp.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * The row permutation of Q and K projections between HF order and llama-arch GGUF order.
 *
 * <p>HF applies RoPE as "rotate half": within a head of {@code d} rows, row {@code i} pairs with row
 * {@code i + d/2}. llama.cpp's {@code llama} architecture rotates adjacent pairs ({@code 2i}, {@code 2i+1}),
 * so its HF converter reorders each head's rows: GGUF row {@code 2i + h} is HF row {@code h*d/2 + i}
 * ({@code h} in {0, 1}, {@code i < d/2}). K is permuted per KV head. Whole rows move, so this works
 * for any storage type, quantized ones included, and for biases (rows of one element).
 *
 * <p>Loading does not use this (it picks {@link dev.offramp.core.model.RopeStyle} instead); only
 * conversion between the formats does.
 *
 * <pre>{@code
 * Tensor wq = QkRowPermutation.hfToGguf(hfWq, config.heads(), Arena.ofAuto());
 * Tensor wk = QkRowPermutation.hfToGguf(hfWk, config.kvHeads(), Arena.ofAuto());
 * }</pre>
 */
public final class QkRowPermutation {

    private QkRowPermutation() {
    }

    /** {@code order[g]} = the HF row that becomes GGUF row {@code g}. */
    public static int[] hfToGgufOrder(int rows, int heads) {
        int d = headRows(rows, heads);
        int half = d / 2;
        int[] order = new int[rows];
        for (int r = 0; r < rows; r++) {
            int head = r / d;
            int local = r % d;
            order[r] = head * d + (local % 2) * half + local / 2;
        }
        return order;
    }

    /** {@code order[h]} = the GGUF row that becomes HF row {@code h}; the inverse of {@link #hfToGgufOrder}. */
    public static int[] ggufToHfOrder(int rows, int heads) {
        int d = headRows(rows, heads);
        int half = d / 2;
        int[] order = new int[rows];
        for (int r = 0; r < rows; r++) {
            int head = r / d;
            int local = r % d;
            order[r] = head * d + 2 * (local % half) + local / half;
        }
        return order;
    }

    /** HF-ordered Q (with {@code heads} = query heads) or K ({@code heads} = KV heads) to GGUF order. */
    public static Tensor hfToGguf(Tensor t, int heads, SegmentAllocator alloc) {
        return apply(t, hfToGgufOrder(rowCount(t), heads), alloc);
    }

    /** GGUF-ordered Q or K back to HF order. */
    public static Tensor ggufToHf(Tensor t, int heads, SegmentAllocator alloc) {
        return apply(t, ggufToHfOrder(rowCount(t), heads), alloc);
    }

    /** A new tensor (same name, type, shape) whose row {@code i} is row {@code order[i]} of {@code t}. */
    public static Tensor apply(Tensor t, int[] order, SegmentAllocator alloc) {
        int rows = rowCount(t);
        if (order.length != rows) {
            throw new IllegalArgumentException(t + ": permutation of " + order.length + " rows for " + rows + " rows");
        }
        long rowBytes = t.byteSize() / Math.max(1, rows);
        MemorySegment dst = alloc.allocate(t.byteSize(), 8);
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(t.data(), order[r] * rowBytes, dst, r * rowBytes, rowBytes);
        }
        return new Tensor(t.name(), t.type(), t.shape(), dst);
    }

    /** Rows to permute: the first dimension (a bias vector's elements are its rows). */
    private static int rowCount(Tensor t) {
        if (t.rank() == 0) {
            throw new IllegalArgumentException(t + ": a scalar has no rows to permute");
        }
        return Math.toIntExact(t.dim(0));
    }

    private static int headRows(int rows, int heads) {
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new IllegalArgumentException(rows + " rows do not split into " + heads + " heads of an even size");
        }
        return rows / heads;
    }
}
