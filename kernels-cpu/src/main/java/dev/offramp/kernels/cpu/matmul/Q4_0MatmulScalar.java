package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/** Scalar twin for Q4_0 (f16 d, 16 bytes: value j low nibble, value j+16 high nibble, minus 8). */
public final class Q4_0MatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q4_0;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 32; b++) {
            long blk = base + 18L * b;
            int xb = xo + 32 * b;
            float s = 0f;
            for (int j = 0; j < 16; j++) {
                int q = u8(w, blk + 2 + j);
                s = Math.fma((q & 0xF) - 8, x[xb + j], s);
                s = Math.fma((q >>> 4) - 8, x[xb + 16 + j], s);
            }
            sum = Math.fma(half(w, blk), s, sum);
        }
        return sum;
    }
}
