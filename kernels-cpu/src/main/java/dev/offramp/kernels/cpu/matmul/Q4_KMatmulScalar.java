package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin for Q4_K (f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, qs[128]): per sub-block of 32,
 * {@code d*sc * sum(q x) - dmin*m * sum(x)}.
 */
public final class Q4_KMatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q4_K;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 256; b++) {
            long blk = base + 144L * b;
            int xb = xo + 256 * b;
            float d = half(w, blk);
            float dmin = half(w, blk + 2);
            for (int j = 0; j < 8; j++) {
                int sc = kScale(w, blk + 4, j);
                int m = kMin(w, blk + 4, j);
                int shift = 4 * (j & 1);
                long q = blk + 16 + 32L * (j >>> 1);
                int xs = xb + 32 * j;
                float s = 0f;
                float sx = 0f;
                for (int l = 0; l < 32; l++) {
                    s = Math.fma((u8(w, q + l) >>> shift) & 0xF, x[xs + l], s);
                    sx += x[xs + l];
                }
                sum = Math.fma(d * sc, s, sum);
                sum = Math.fma(-dmin * m, sx, sum);
            }
        }
        return sum;
    }

    /** 6-bit scale j of the Q4_K/Q5_K packing at {@code s} (12 bytes). */
    static int kScale(MemorySegment w, long s, int j) {
        return j < 4 ? u8(w, s + j) & 63 : (u8(w, s + j + 4) & 0xF) | ((u8(w, s + j - 4) >>> 6) << 4);
    }

    /** 6-bit minimum j of the Q4_K/Q5_K packing at {@code s} (12 bytes). */
    static int kMin(MemorySegment w, long s, int j) {
        return j < 4 ? u8(w, s + j + 4) & 63 : (u8(w, s + j + 4) >>> 4) | ((u8(w, s + j) >>> 6) << 4);
    }
}
