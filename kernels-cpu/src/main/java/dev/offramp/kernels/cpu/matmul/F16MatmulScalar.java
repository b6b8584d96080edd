package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference F16 matmul (IEEE binary16, widened exactly by {@link Float#float16ToFloat}): one sequential fused multiply-add chain per output.
 * The twin of {@code F16MatmulWiden} and the kernel used when the Vector API is absent.
 */
public final class F16MatmulScalar implements MatmulKernel {
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public DType type() {
        return DType.F16;
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                       float[] out, int outStride, int rowStart, int rowEnd) {
        long rowBytes = 2L * cols;
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rowBytes;
            for (int t = 0; t < n; t++) {
                int xo = t * xStride;
                float s = 0f;
                for (int c = 0; c < cols; c++) {
                    s = Math.fma(Float.float16ToFloat(w.get(I16_LE, base + 2L * c)), x[xo + c], s);
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
