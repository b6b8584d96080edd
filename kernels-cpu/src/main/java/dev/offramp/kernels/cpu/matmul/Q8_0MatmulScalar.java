package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/** Scalar twin for Q8_0 (f16 d, 32 x int8): per block {@code d * sum(q * x)}, blocks summed in order. */
public final class Q8_0MatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q8_0;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 32; b++) {
            long blk = base + 34L * b;
            int xb = xo + 32 * b;
            float s = 0f;
            for (int j = 0; j < 32; j++) {
                s = Math.fma(i8(w, blk + 2 + j), x[xb + j], s);
            }
            sum = Math.fma(half(w, blk), s, sum);
        }
        return sum;
    }
}
