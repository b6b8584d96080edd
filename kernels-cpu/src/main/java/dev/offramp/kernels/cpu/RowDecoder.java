package dev.offramp.kernels.cpu;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dequantizes one row of a tensor to F32: embedding lookup and small vectors (norm weights, biases).
 * F32/F16/BF16 are decoded here; the ggml block types go to the bit-exact reference dequantizer
 * {@link Dequantize} (one row per token is cheap next to a matmul).
 */
final class RowDecoder {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RowDecoder() {
    }

    static boolean supports(DType type) {
        return switch (type) {
            case F32, F16, BF16 -> true;
            default -> Dequantize.supports(type);
        };
    }

    /** Writes row {@code row} of {@code t} (its {@code cols()} values) to {@code dst[dstOffset..]}. */
    static void decodeRow(Tensor t, long row, float[] dst, int dstOffset) {
        int cols = Math.toIntExact(t.cols());
        MemorySegment s = t.data();
        long base = row * t.rowBytes();
        switch (t.type()) {
            case F32 -> MemorySegment.copy(s, F32_LE, base, dst, dstOffset, cols);
            case F16 -> {
                for (int c = 0; c < cols; c++) {
                    dst[dstOffset + c] = Float.float16ToFloat(s.get(I16_LE, base + 2L * c));
                }
            }
            case BF16 -> {
                for (int c = 0; c < cols; c++) {
                    dst[dstOffset + c] = Float.intBitsToFloat((s.get(I16_LE, base + 2L * c) & 0xFFFF) << 16);
                }
            }
            default -> {
                if (!Dequantize.supports(t.type())) {
                    throw new UnsupportedOperationException("cannot dequantize a row of " + t.type()
                            + " on the CPU backend (tensor " + t.name() + ")");
                }
                Dequantize.row(t.type(), s, base, dst, dstOffset, cols);
            }
        }
    }

    /** The whole tensor as floats; only for small tensors (norm weights, biases). */
    static float[] decodeAll(Tensor t) {
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("tensor " + t.name() + " is too large to decode to a float vector");
        }
        float[] out = new float[(int) n];
        int cols = Math.toIntExact(t.cols());
        long rows = t.rows();
        for (long r = 0; r < rows; r++) {
            decodeRow(t, r, out, (int) (r * cols));
        }
        return out;
    }
}
