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
public final class Q4_KInt8MatmulScalar implements MatmulKernel {
    @Override
    public DType type() {
        return DType.Q4_K;
    }

    @Override
    public MatmulKernel scalar() {
        return this;
    }

    @Override
    public Int8Scheme int8Activations() {
        return Int8Scheme.Q8_K;
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                       float[] out, int outStride, int rowStart, int rowEnd) {
        QuantMatmulArgs.check(DType.Q4_K, w, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        if (n == 0) {
            return;
        }
        Int8Activations a = new Int8Activations(Int8Scheme.Q8_K);
        a.quantize(x, xStride, n, cols);
        matmul(w, cols, a, n, out, outStride, rowStart, rowEnd);
    }

    @Override
    public void matmul(MemorySegment w, int cols, Int8Activations x, int n,
                       float[] out, int outStride, int rowStart, int rowEnd) {
        long rowBytes = QuantMatmulArgs.check(DType.Q4_K, w, cols, x, n, out, outStride, rowStart, rowEnd);
        int ns = cols / 256;
        for (int r = rowStart; r < rowEnd; r++) {
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = rowDot(w, r * rowBytes, ns, x.quants(), t * cols, x.scales(), t * ns,
                        x.sums(), t * ns * 8);
            }
        }
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
