package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin of {@link Q4_KInt8MatmulVector}: Q4_K weights against {@code q8_K} activations, the
 * integer part of llama.cpp's {@code ggml_vec_dot_q4_K_q8_K}. Per super-block of 256, exact integer
 * sums {@code isum = sum_j sc_j * sum_l q_jl xq_jl} and {@code msum = sum_j m_j * X_j} ({@code X_j}: the
 * sub-block's quant sum), then {@code acc = fma(isum, d * dx, acc)} and
 * {@code acc = fma(msum, -(dmin * dx), acc)}, super-block after super-block.
 */
public final class Q4_KInt8MatmulScalar extends Int8MatmulScalar {
    public Q4_KInt8MatmulScalar() {
        super(DType.Q4_K, Int8Scheme.Q8_K);
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, Int8Activations x, int t) {
        int ns = cols / 256;
        return rowDot(w, base, ns, x.quants(), t * cols, x.scales(), t * ns, x.sums(), t * ns * 8);
    }

    static float rowDot(MemorySegment w, long base, int ns, short[] q, int xo, float[] d, int dso, int[] sum, int so) {
        float acc = 0f;
        for (int s = 0; s < ns; s++) {
            long blk = base + 144L * s;
            int isum = 0;
            int msum = 0;
            for (int j = 0; j < 8; j++) {
                long qs = blk + 16 + 32L * (j >>> 1);
                int shift = 4 * (j & 1);
                int xb = xo + 256 * s + 32 * j;
                int dot = 0;
                for (int l = 0; l < 32; l++) {
                    dot += ((QuantMatmulScalar.u8(w, qs + l) >>> shift) & 0xF) * q[xb + l];
                }
                isum += Q4_KMatmulScalar.kScale(w, blk + 4, j) * dot;
                msum += Q4_KMatmulScalar.kMin(w, blk + 4, j) * sum[so + 8 * s + j];
            }
            float dx = d[dso + s];
            acc = Math.fma((float) isum, QuantMatmulScalar.half(w, blk) * dx, acc);
            acc = Math.fma((float) msum, -(QuantMatmulScalar.half(w, blk + 2) * dx), acc);
        }
        return acc;
    }
}
