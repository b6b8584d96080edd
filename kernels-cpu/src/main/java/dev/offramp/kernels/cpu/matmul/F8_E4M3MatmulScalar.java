package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Scalar FP8 E4M3FN matmul over the prepared layout {@link #pack} makes from an HF FP8 weight and its
 * per-row F32 {@code weight_scale}: each row is {@code [f32 scale][cols E4M3 bytes]} (stride
 * {@code cols + 4}), so the kernel contract's single segment carries the scales. Per row:
 * {@code scale * sum_c fp8(q[c]) * x[c]}, summed in column order.
 *
 * <p>FP8 is widened by integer bit manipulation (no FP8 lanes in Java): the 7 magnitude bits shifted
 * left by 20 form a float equal to the value times 2^-120 (subnormal codes included, as float
 * subnormals), so one multiplication by 2^120 makes it exact; the NaN code is never expected in weights.
 */
public final class F8_E4M3MatmulScalar implements MatmulKernel {

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final float TWO_POW_120 = 0x1p120f;

    @Override
    public DType type() {
        return DType.F8_E4M3;
    }

    /** Bytes of one prepared row. */
    public static long rowBytes(int cols) {
        return cols + 4L;
    }

    /**
     * Interleaves {@code q} (rows x cols E4M3 bytes) with {@code scales} (F32 per row) into the
     * prepared layout, allocated from {@code arena}.
     */
    public static MemorySegment pack(MemorySegment q, MemorySegment scales, int rows, int cols, Arena arena) {
        if (q.byteSize() != (long) rows * cols || scales.byteSize() != 4L * rows) {
            throw new IllegalArgumentException("FP8 weight of " + q.byteSize() + " bytes with " + scales.byteSize()
                    + " scale bytes does not match " + rows + " x " + cols);
        }
        MemorySegment out = arena.allocate(rows * rowBytes(cols), 64);
        for (int r = 0; r < rows; r++) {
            out.set(F32, r * rowBytes(cols), scales.get(F32, 4L * r));
            MemorySegment.copy(q, (long) r * cols, out, r * rowBytes(cols) + 4, cols);
        }
        return out;
    }

    static float widen(int b) {
        return Float.intBitsToFloat(((b & 0x7F) << 20) | ((b & 0x80) << 24)) * TWO_POW_120;
    }

    static void check(MemorySegment w, long rowBytes, int cols, float[] x, int xStride, int n, float[] out,
                      int outStride, int rowStart, int rowEnd) {
        Objects.requireNonNull(w, "w");
        if (cols <= 0 || n < 0 || rowStart < 0 || rowEnd < rowStart || (long) rowEnd * rowBytes > w.byteSize()) {
            throw new IllegalArgumentException("rows " + rowStart + ".." + rowEnd + " of " + cols
                    + " columns do not fit a prepared weight of " + w.byteSize() + " bytes (" + rowBytes
                    + " bytes a row: FP8/INT4 kernels read the layout their pack() makes, scales interleaved)");
        }
        if (n > 0 && ((long) (n - 1) * xStride + cols > x.length || (long) (n - 1) * outStride + rowEnd > out.length)) {
            throw new IllegalArgumentException("activations or output too short for " + n + " tokens");
        }
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n, float[] out, int outStride,
                       int rowStart, int rowEnd) {
        long rb = rowBytes(cols);
        check(w, rb, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rb;
            float scale = w.get(F32, base);
            for (int t = 0; t < n; t++) {
                int xo = t * xStride;
                float s = 0f;
                for (int c = 0; c < cols; c++) {
                    s = Math.fma(widen(w.get(ValueLayout.JAVA_BYTE, base + 4 + c)), x[xo + c], s);
                }
                out[t * outStride + r] = s * scale;
            }
        }
    }

    @Override
    public MatmulKernel scalar() {
        return this;
    }
}
