package dev.offramp.core.tensor.quant;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Reference (plain scalar) dequantization of every ggml weight type this runtime reads, bit-exact
 * with ggml's {@code dequantize_row_*}. Kernels never call this per token; loaders, converters and
 * tests do. Each type's block layout is documented in its own codec ({@link Q4_KCodec} for Q4_K ...).
 *
 * <pre>{@code
 * float[] row = new float[cols];
 * Dequantize.row(DType.Q4_K, tensor.data(), r * tensor.rowBytes(), row, 0, cols);
 * }</pre>
 */
public final class Dequantize {
    private Dequantize() {
    }

    /** Whether {@link #row} can read this type. */
    public static boolean supports(DType type) {
        return switch (type) {
            case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
            // Whole rows only: their scales sit in front of the row (see GroupScaledRows).
            case I4_G128, F8_E4M3_G128 -> true;
            default -> false;
        };
    }

    /**
     * Decodes {@code count} values (a whole number of {@code type}'s blocks) stored at
     * {@code byteOffset} of {@code src} into {@code dst[dstOffset ..]}.
     *
     * @throws IllegalArgumentException when the type has no dequantizer or {@code count} is not whole blocks
     * @throws IndexOutOfBoundsException when the bytes or the destination are too short
     */
    public static void row(DType type, MemorySegment src, long byteOffset, float[] dst, int dstOffset, int count) {
        if (count < 0 || count % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " stores blocks of " + type.blockSize() + " values; "
                    + count + " is not a whole number of blocks");
        }
        BlockBytes.checkRanges(type, "dequantize", byteOffset, type.bytesFor(count), src.byteSize(),
                dstOffset, count, dst.length);
        switch (type) {
            case F32 -> F32Codec.dequantize(src, byteOffset, dst, dstOffset, count);
            case F16 -> F16Codec.dequantize(src, byteOffset, dst, dstOffset, count);
            case BF16 -> BF16Codec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q4_0 -> Q4_0Codec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q4_1 -> Q4_1Codec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q5_0 -> Q5_0Codec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q5_1 -> Q5_1Codec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q8_0 -> Q8_0Codec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q2_K -> Q2_KCodec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q3_K -> Q3_KCodec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q4_K -> Q4_KCodec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q5_K -> Q5_KCodec.dequantize(src, byteOffset, dst, dstOffset, count);
            case Q6_K -> Q6_KCodec.dequantize(src, byteOffset, dst, dstOffset, count);
            case I4_G128, F8_E4M3_G128 -> GroupScaledRows.dequantizeRow(type, src, byteOffset, dst, dstOffset, count);
            default -> throw new IllegalArgumentException("no dequantizer for weight type " + type);
        }
    }

    /** Decodes a whole tensor of {@code elements} values into a new array (tests and small tensors only). */
    public static float[] all(DType type, MemorySegment src, int elements) {
        float[] out = new float[elements];
        row(type, src, 0, out, 0, elements);
        return out;
    }
}
