package dev.offramp.core.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A typed, shaped view over bytes that live elsewhere (usually a memory-mapped model file): loading
 * a model copies nothing. Shapes are row-major, outermost dimension first, so a weight matrix
 * {@code [rows, cols]} has rows of {@code cols} contiguous values ({@code cols} is ggml's
 * {@code ne0}). Quantized types quantize along the last dimension.
 *
 * @param name  the tensor's name in its file, e.g. {@code blk.0.attn_q.weight}
 * @param type  storage type
 * @param shape dimensions, outermost first
 * @param data  exactly {@link #byteSize()} bytes
 */
public record Tensor(String name, DType type, long[] shape, MemorySegment data) {

    public Tensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        if (shape.length > 0 && shape[shape.length - 1] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + shape[shape.length - 1]
                    + " is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        long bytes = type.bytesFor(n);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("tensor " + name + " " + type + Arrays.toString(shape)
                    + " needs " + bytes + " bytes but its data has " + data.byteSize());
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** Rows of a matrix (product of every dimension but the last); 1 for a vector. */
    public long rows() {
        long n = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            n *= shape[i];
        }
        return n;
    }

    /** Length of one row (the last dimension). */
    public long cols() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** Bytes of one row in this tensor's storage type. */
    public long rowBytes() {
        return type.bytesFor(cols());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && data.equals(t.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(shape);
    }
}
