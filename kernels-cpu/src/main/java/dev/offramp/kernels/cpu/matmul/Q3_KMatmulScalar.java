package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin for Q3_K (hmask[32] at 0, qs[64] at 32, 12 packed 6-bit scales at 96, f16 d at 108):
 * per sub-block of 16, {@code d*(scale-32) * sum((q2 - (hbit ? 0 : 4)) x)}.
 */
public final class Q3_KMatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q3_K;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 256; b++) {
            long blk = base + 110L * b;
            int xb = xo + 256 * b;
            float d = half(w, blk + 108);
            for (int sub = 0; sub < 16; sub++) {
                int lo = sub < 8 ? u8(w, blk + 96 + sub) & 0xF : u8(w, blk + 96 + sub - 8) >>> 4;
                int hi = (u8(w, blk + 104 + (sub & 3)) >>> (2 * (sub >>> 2))) & 3;
                int scale = (lo | (hi << 4)) - 32;
                int half = sub >>> 3;
                int pair = (sub & 7) >>> 1;
                int l0 = 16 * (sub & 1);
                long q = blk + 32 + 32L * half;
                int xs = xb + 16 * sub - l0;
                float s = 0f;
                for (int l = l0; l < l0 + 16; l++) {
                    int q2 = (u8(w, q + l) >>> (2 * pair)) & 3;
                    int h = (u8(w, blk + l) >>> (4 * half + pair)) & 1;
                    s = Math.fma(q2 - 4 + 4 * h, x[xs + l], s);
                }
                sum = Math.fma(d * scale, s, sum);
            }
        }
        return sum;
    }
}
