package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scalar FP8 E4M3FN matmul over {@link DType#F8_E4M3_G128} rows ({@code [cols/128 f32 scales][cols
 * fp8 bytes]}, the layout HF FP8 loaders build from per-row {@code weight_scale} or 128x128-block
 * {@code weight_scale_inv}): per group {@code g = sum fp8 * x} in column order, then
 * {@code sum = fma(scale_g, g, sum)} over groups in order. Reference twin of {@link F8_E4M3G128MatmulVector}.
 */
public final class F8_E4M3G128MatmulScalar implements MatmulKernel {

    public static final int GROUP = 128;

    @Override
    public DType type() {
        return DType.F8_E4M3_G128;
    }

    static long rowBytes(int cols) {
        if (cols % GROUP != 0) {
            throw new IllegalArgumentException("F8_E4M3_G128 rows must be whole groups of " + GROUP + ", got " + cols);
        }
        return DType.F8_E4M3_G128.bytesFor(cols);
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n, float[] out, int outStride,
                       int rowStart, int rowEnd) {
        long rb = rowBytes(cols);
        F8_E4M3MatmulScalar.check(w, rb, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        int groups = cols / GROUP;
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rb;
            long data = base + 4L * groups;
            for (int t = 0; t < n; t++) {
                int xo = t * xStride;
                float sum = 0f;
                for (int k = 0; k < groups; k++) {
                    float s = 0f;
                    for (int j = 0; j < GROUP; j++) {
                        int c = k * GROUP + j;
                        s = Math.fma(F8_E4M3MatmulScalar.widen(w.get(ValueLayout.JAVA_BYTE, data + c)), x[xo + c], s);
                    }
                    sum = Math.fma(w.get(F8_E4M3MatmulScalar.F32, base + 4L * k), s, sum);
                }
                out[t * outStride + r] = sum;
            }
        }
    }

    @Override
    public MatmulKernel scalar() {
        return this;
    }
}
