package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin of {@link Q4_0Int8MatmulVector}: Q4_0 weights against int8 activations, llama.cpp's
 * {@code ggml_vec_dot_q4_0_q8_0} arithmetic. Per block, the integer sum {@code s = sum (q - 8) * xq}
 * (exact: at most 32 * 8 * 127 in magnitude), then {@code acc = fma(s, d_w * d_x, acc)} block after
 * block. Every step is exact or one fixed rounding, so any kernel that forms the same integer sums
 * and the same chain of FMAs gives these bits whatever its lane layout.
 */
public final class Q4_0Int8MatmulScalar extends Int8MatmulScalar {
    public Q4_0Int8MatmulScalar() {
        super(DType.Q4_0, Int8Scheme.Q8_0);
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, Int8Activations x, int t) {
        int nb = cols / 32;
        return rowDot(w, base, nb, x.quants(), t * cols, x.scales(), t * nb);
    }

    /** The row at byte {@code base} against the token whose quants start at {@code xo} and scales at {@code so}. */
    static float rowDot(MemorySegment w, long base, int nb, short[] q, int xo, float[] d, int so) {
        float acc = 0f;
        for (int b = 0; b < nb; b++) {
            long blk = base + 18L * b;
            int xb = xo + 32 * b;
            int s = 0;
            for (int j = 0; j < 16; j++) {
                int v = QuantMatmulScalar.u8(w, blk + 2 + j);
                s += ((v & 0xF) - 8) * q[xb + j] + ((v >>> 4) - 8) * q[xb + 16 + j];
            }
            acc = Math.fma((float) s, QuantMatmulScalar.half(w, blk) * d[so + b], acc);
        }
        return acc;
    }
}
