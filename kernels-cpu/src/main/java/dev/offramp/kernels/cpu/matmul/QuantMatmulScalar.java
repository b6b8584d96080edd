package dev.offramp.kernels.cpu.matmul;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Shared loop of the scalar quantized kernels: each output is one {@link #rowDot} of a weight row with
 * one token, so the order of a (token, row) never depends on the batch or on the row split. These
 * twins decode the blocks themselves (not through the runtime-core codecs), so a test that compares
 * them with the codecs checks the block layout twice, independently. They touch no Vector API class.
 */
abstract class QuantMatmulScalar implements MatmulKernel {
    static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public final void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                             float[] out, int outStride, int rowStart, int rowEnd) {
        long rowBytes = QuantMatmulArgs.check(type(), w, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rowBytes;
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = rowDot(w, base, cols, x, t * xStride);
            }
        }
    }

    /** Dot product of the weight row at byte {@code base} with {@code x[xo .. xo + cols)}. */
    abstract float rowDot(MemorySegment w, long base, int cols, float[] x, int xo);

    @Override
    public final MatmulKernel scalar() {
        return this;
    }

    static float half(MemorySegment w, long at) {
        return Float.float16ToFloat(w.get(HALF, at));
    }

    static int u8(MemorySegment w, long at) {
        return w.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    static int i8(MemorySegment w, long at) {
        return w.get(ValueLayout.JAVA_BYTE, at);
    }
}
