package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin of {@link Q8_0Int8MatmulVector}: Q8_0 weights against int8 activations, llama.cpp's
 * {@code ggml_vec_dot_q8_0_q8_0} arithmetic. Per block, the integer sum {@code s = sum q * xq} (exact:
 * at most 32 * 128 * 127 in magnitude, so {@code (float) s} is exact too), then
 * {@code acc = fma(s, d_w * d_x, acc)} block after block. Every step is exact or one fixed rounding, so
 * any kernel that forms the same integer sums and the same chain of FMAs gives these bits.
 */
public final class Q8_0Int8MatmulScalar extends Int8MatmulScalar {
    public Q8_0Int8MatmulScalar() {
        super(DType.Q8_0, Int8Scheme.Q8_0);
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, Int8Activations x, int t) {
        int nb = cols / 32;
        short[] q = x.quants();
        float[] d = x.scales();
        int xo = t * cols;
        int so = t * nb;
        float acc = 0f;
        for (int b = 0; b < nb; b++) {
            long blk = base + 34L * b;
            int xb = xo + 32 * b;
            int s = 0;
            for (int j = 0; j < 32; j++) {
                s += w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, blk + 2 + j) * q[xb + j];
            }
            acc = Math.fma((float) s, QuantMatmulScalar.half(w, blk) * d[so + b], acc);
        }
        return acc;
    }
}
