package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin for Q2_K (scales[16] at 0, qs[64] at 16, f16 d at 80, f16 dmin at 82): per sub-block of
 * 16, {@code d*sc * sum(q x) - dmin*m * sum(x)}.
 */
public final class Q2_KMatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q2_K;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 256; b++) {
            long blk = base + 84L * b;
            int xb = xo + 256 * b;
            float d = half(w, blk + 80);
            float dmin = half(w, blk + 82);
            for (int sub = 0; sub < 16; sub++) {
                int sc = u8(w, blk + sub);
                int shift = 2 * ((sub & 7) >>> 1);
                long q = blk + 16 + 32L * (sub >>> 3) + 16L * (sub & 1);
                int xs = xb + 16 * sub;
                float s = 0f;
                float sx = 0f;
                for (int l = 0; l < 16; l++) {
                    s = Math.fma((u8(w, q + l) >>> shift) & 3, x[xs + l], s);
                    sx += x[xs + l];
                }
                sum = Math.fma(d * (sc & 0xF), s, sum);
                sum = Math.fma(-dmin * (sc >>> 4), sx, sum);
            }
        }
        return sum;
    }
}
