package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar INT4 group-wise matmul (groups of 128 columns, symmetric, compressed-tensors pack-quantized
 * nibbles: value {@code 2j} in the low nibble of byte {@code j}, {@code 2j+1} in the high one, stored
 * {@code q + 8}) over the prepared layout {@link #pack} makes: each row is
 * {@code [cols/128 f32 scales][cols/2 packed bytes]}. Per group: {@code scale_g * sum (q - 8) * x},
 * groups summed in order.
 *
 * <p>{@link #type()} is {@link DType#I4_G128}, whose rows are exactly this layout (HF loaders build
 * it from {@code weight_packed} + {@code weight_scale}), so {@link MatmulKernels} routes to it.
 */
public final class Int4MatmulScalar implements MatmulKernel {

    public static final int GROUP = 128;
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public DType type() {
        return DType.I4_G128;
    }

    public static long rowBytes(int cols) {
        if (cols % GROUP != 0) {
            throw new IllegalArgumentException("INT4 rows must be whole groups of " + GROUP + ", got " + cols);
        }
        return 4L * (cols / GROUP) + cols / 2;
    }

    /** Interleaves packed rows ({@code cols/2} bytes each) with their F32 group scales ({@code [rows, cols/128]}). */
    public static MemorySegment pack(MemorySegment packed, float[] scales, int rows, int cols, Arena arena) {
        int g = cols / GROUP;
        if (packed.byteSize() != (long) rows * (cols / 2) || scales.length != rows * g) {
            throw new IllegalArgumentException("INT4 weight does not match " + rows + " x " + cols);
        }
        long rb = rowBytes(cols);
        MemorySegment out = arena.allocate(rows * rb, 64);
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < g; k++) {
                out.set(F32, r * rb + 4L * k, scales[r * g + k]);
            }
            MemorySegment.copy(packed, (long) r * (cols / 2), out, r * rb + 4L * g, cols / 2);
        }
        return out;
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n, float[] out, int outStride,
                       int rowStart, int rowEnd) {
        long rb = rowBytes(cols);
        F8_E4M3MatmulScalar.check(w, rb, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        int g = cols / GROUP;
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rb;
            long data = base + 4L * g;
            for (int t = 0; t < n; t++) {
                int xo = t * xStride;
                float sum = 0f;
                for (int k = 0; k < g; k++) {
                    float s = 0f;
                    for (int j = 0; j < GROUP / 2; j++) {
                        int b = w.get(ValueLayout.JAVA_BYTE, data + (long) k * (GROUP / 2) + j) & 0xFF;
                        int c = xo + k * GROUP + 2 * j;
                        s = Math.fma((b & 0xF) - 8, x[c], s);
                        s = Math.fma((b >>> 4) - 8, x[c + 1], s);
                    }
                    sum = Math.fma(w.get(F32, base + 4L * k), s, sum);
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
