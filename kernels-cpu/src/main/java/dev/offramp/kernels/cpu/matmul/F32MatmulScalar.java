package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference F32 matmul (plain little-endian floats): one sequential fused multiply-add chain per output.
 * The twin of {@code F32MatmulVector} and the kernel used when the Vector API is absent.
 */
public final class F32MatmulScalar implements MatmulKernel {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public DType type() {
        return DType.F32;
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                       float[] out, int outStride, int rowStart, int rowEnd) {
        long rowBytes = 4L * cols;
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rowBytes;
            for (int t = 0; t < n; t++) {
                int xo = t * xStride;
                float s = 0f;
                for (int c = 0; c < cols; c++) {
                    s = Math.fma(w.get(F32_LE, base + 4L * c), x[xo + c], s);
                }
                out[t * outStride + r] = s;
            }
        }
    }

    @Override
    public MatmulKernel scalar() {
        return this;
    }
}
