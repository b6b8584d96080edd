package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/** Scalar twin for Q5_0 (f16 d, u32 high bits, 16 nibble bytes; values minus 16). */
public final class Q5_0MatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q5_0;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 32; b++) {
            long blk = base + 22L * b;
            int xb = xo + 32 * b;
            int qh = w.get(U32, blk + 2);
            float s = 0f;
            for (int j = 0; j < 16; j++) {
                int q = u8(w, blk + 6 + j);
                int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
                int hi = (q >>> 4) | (((qh >>> (16 + j)) & 1) << 4);
                s = Math.fma(lo - 16, x[xb + j], s);
                s = Math.fma(hi - 16, x[xb + 16 + j], s);
            }
            sum = Math.fma(half(w, blk), s, sum);
        }
        return sum;
    }
}
