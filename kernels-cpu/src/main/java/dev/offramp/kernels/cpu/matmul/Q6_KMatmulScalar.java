package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin for Q6_K (ql[128] at 0, qh[64] at 128, int8 scales[16] at 192, f16 d at 208): per
 * sub-block of 16, {@code d*sc * sum((q6 - 32) x)}.
 */
public final class Q6_KMatmulScalar extends QuantMatmulScalar {
    @Override
    public DType type() {
        return DType.Q6_K;
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < cols / 256; b++) {
            long blk = base + 210L * b;
            int xb = xo + 256 * b;
            float d = half(w, blk + 208);
            for (int sub = 0; sub < 16; sub++) {
                // Sub-block sub = 8h + 2k + g covers values 128h + 32k + 16g .. +16: quarter k of half h.
                int h = sub >>> 3;
                int k = (sub >>> 1) & 3;
                int g = sub & 1;
                long ql = blk + 64L * h + 32L * (k & 1);
                int lowShift = 4 * (k >>> 1);
                long qh = blk + 128 + 32L * h;
                int xs = xb + 16 * sub;
                float s = 0f;
                for (int i = 0; i < 16; i++) {
                    int l = 16 * g + i;
                    int v = ((u8(w, ql + l) >>> lowShift) & 0xF) | (((u8(w, qh + l) >>> (2 * k)) & 3) << 4);
                    s = Math.fma(v - 32, x[xs + i], s);
                }
                int sc = i8(w, blk + 192 + 8L * h + g + 2L * k);
                sum = Math.fma(d * sc, s, sum);
            }
        }
        return sum;
    }
}
