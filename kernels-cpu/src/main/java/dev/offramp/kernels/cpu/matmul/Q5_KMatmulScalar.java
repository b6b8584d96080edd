package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin for Q5_K (f16 d, f16 dmin, 12 bytes of scales/mins, qh[32] at 16, qs[128] at 48): as Q4_K
 * with bit j of qh[l] as the 5th bit of value 32j + l.
 */
public final class Q5_KMatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q5_K;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 256; b++) {
            long blk = base + 176L * b;
            int xb = xo + 256 * b;
            float d = half(w, blk);
            float dmin = half(w, blk + 2);
            for (int j = 0; j < 8; j++) {
                int sc = Q4_KMatmulScalar.kScale(w, blk + 4, j);
                int m = Q4_KMatmulScalar.kMin(w, blk + 4, j);
                int shift = 4 * (j & 1);
                long q = blk + 48 + 32L * (j >>> 1);
                int xs = xb + 32 * j;
                float s = 0f;
                float sx = 0f;
                for (int l = 0; l < 32; l++) {
                    int v = ((u8(w, q + l) >>> shift) & 0xF) | (((u8(w, blk + 16 + l) >>> j) & 1) << 4);
                    s = Math.fma(v, x[xs + l], s);
                    sx += x[xs + l];
                }
                sum = Math.fma(d * sc, s, sum);
                sum = Math.fma(-dmin * m, sx, sum);
            }
        }
        return sum;
    }
}
