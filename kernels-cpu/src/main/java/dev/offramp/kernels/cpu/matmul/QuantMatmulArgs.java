package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/** Argument checks shared by the quantized kernels: a bad call fails here, naming what is wrong, never in a read. */
final class QuantMatmulArgs {
    private QuantMatmulArgs() {
    }

    /** Validates a {@link MatmulKernel#matmul} call and returns the bytes of one weight row. */
    static long check(DType type, MemorySegment w, int cols, float[] x, int xStride, int n,
                      float[] out, int outStride, int rowStart, int rowEnd) {
        long rowBytes = checkWeightAndOut(type, w, cols, n, out, outStride, rowStart, rowEnd);
        if (n > 0 && (xStride < cols && n > 1 || (long) (n - 1) * xStride + cols > x.length)) {
            throw new IndexOutOfBoundsException(type + " matmul: activations of length " + x.length
                    + " cannot hold " + n + " rows of " + cols + " with stride " + xStride);
        }
        return rowBytes;
    }

    /**
     * Validates a call of a kernel that reads activations quantized by {@code scheme} and returns the
     * bytes of one weight row.
     */
    static long check(DType type, Int8Scheme scheme, MemorySegment w, int cols, Int8Activations x, int n,
                      float[] out, int outStride, int rowStart, int rowEnd) {
        long rowBytes = checkWeightAndOut(type, w, cols, n, out, outStride, rowStart, rowEnd);
        x.check(type, scheme, cols, n);
        return rowBytes;
    }

    private static long checkWeightAndOut(DType type, MemorySegment w, int cols, int n,
                                          float[] out, int outStride, int rowStart, int rowEnd) {
        if (cols <= 0 || cols % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " matmul: row length " + cols
                    + " is not a positive multiple of the block size " + type.blockSize());
        }
        if (n < 0 || rowStart < 0 || rowEnd < rowStart) {
            throw new IllegalArgumentException(type + " matmul: bad n=" + n + " or rows [" + rowStart + ", " + rowEnd + ")");
        }
        long rowBytes = type.bytesFor(cols);
        if ((long) rowEnd * rowBytes > w.byteSize()) {
            throw new IndexOutOfBoundsException(type + " matmul: rows up to " + rowEnd + " of " + cols + " values need "
                    + (long) rowEnd * rowBytes + " bytes, the weight has " + w.byteSize());
        }
        if (n > 0 && rowEnd > rowStart && ((long) (n - 1) * outStride + rowEnd > out.length || (n > 1 && outStride < rowEnd))) {
            throw new IndexOutOfBoundsException(type + " matmul: output of length " + out.length
                    + " cannot hold " + n + " rows up to " + rowEnd + " with stride " + outStride);
        }
        return rowBytes;
    }
}
