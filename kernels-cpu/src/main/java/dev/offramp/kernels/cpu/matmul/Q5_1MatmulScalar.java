package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/** Scalar twin for Q5_1 (f16 d, f16 m, u32 high bits, 16 nibble bytes): {@code d * sum(q x) + m * sum(x)}. */
public final class Q5_1MatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q5_1;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 32; b++) {
            long blk = base + 24L * b;
            int xb = xo + 32 * b;
            int qh = w.get(U32, blk + 4);
            float s = 0f;
            float sx = 0f;
            for (int j = 0; j < 16; j++) {
                int q = u8(w, blk + 8 + j);
                int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
                int hi = (q >>> 4) | (((qh >>> (16 + j)) & 1) << 4);
                s = Math.fma(lo, x[xb + j], s);
                s = Math.fma(hi, x[xb + 16 + j], s);
                sx += x[xb + j] + x[xb + 16 + j];
            }
            sum = Math.fma(half(w, blk), s, sum);
            sum = Math.fma(half(w, blk + 2), sx, sum);
        }
        return sum;
    }
}
