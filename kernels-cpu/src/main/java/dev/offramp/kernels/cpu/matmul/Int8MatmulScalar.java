package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Shared loop of the scalar twins of the int8-activation kernels: quantize (the float call), then one
 * {@link #rowDot} per (row, token) in ggml's block layout, so a result depends on neither batch nor
 * row split. Every step of a {@code rowDot} is exact integer arithmetic or one fixed float rounding,
 * which is what lets a vector kernel with any lane layout give the same bits.
 */
abstract sealed class Int8MatmulScalar implements MatmulKernel
        permits Q4_0Int8MatmulScalar, Q4_KInt8MatmulScalar, Q6_KInt8MatmulScalar, Q8_0Int8MatmulScalar {
    private final DType type;
    private final Int8Scheme scheme;

    Int8MatmulScalar(DType type, Int8Scheme scheme) {
        this.type = type;
        this.scheme = scheme;
    }

    /** Row at byte {@code base} against token {@code t} of {@code x}. */
    abstract float rowDot(MemorySegment w, long base, int cols, Int8Activations x, int t);

    @Override
    public final DType type() {
        return type;
    }

    @Override
    public final MatmulKernel scalar() {
        return this;
    }

    @Override
    public final Int8Scheme int8Activations() {
        return scheme;
    }

    @Override
    public final void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                             float[] out, int outStride, int rowStart, int rowEnd) {
        QuantMatmulArgs.check(type, w, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        if (n == 0) {
            return;
        }
        Int8Activations a = new Int8Activations(scheme);
        a.quantize(x, xStride, n, cols);
        matmul(w, cols, a, n, out, outStride, rowStart, rowEnd);
    }

    @Override
    public final void matmul(MemorySegment w, int cols, Int8Activations x, int n,
                             float[] out, int outStride, int rowStart, int rowEnd) {
        long rowBytes = QuantMatmulArgs.check(type, scheme, w, cols, x, n, out, outStride, rowStart, rowEnd);
        for (int r = rowStart; r < rowEnd; r++) {
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = rowDot(w, r * rowBytes, cols, x, t);
            }
        }
    }
}
