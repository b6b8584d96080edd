package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/** Scalar twin for Q4_1 (f16 d, f16 m, 16 nibble bytes): per block {@code d * sum(q x) + m * sum(x)}. */
public final class Q4_1MatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q4_1;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 32; b++) {
            long blk = base + 20L * b;
            int xb = xo + 32 * b;
            float s = 0f;
            float sx = 0f;
            for (int j = 0; j < 16; j++) {
                int q = u8(w, blk + 4 + j);
                s = Math.fma(q & 0xF, x[xb + j], s);
                s = Math.fma(q >>> 4, x[xb + 16 + j], s);
                sx += x[xb + j] + x[xb + 16 + j];
            }
            sum = Math.fma(half(w, blk), s, sum);
            sum = Math.fma(half(w, blk + 2), sx, sum);
        }
        return sum;
    }
}
