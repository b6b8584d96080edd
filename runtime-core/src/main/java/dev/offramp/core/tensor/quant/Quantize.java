package dev.offramp.core.tensor.quant;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Reference quantization, byte-identical to ggml's {@code quantize_row_*_ref} for the types that have
 * a closed-form quantizer here: F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 (and F32, a copy).
 *
 * <pre>{@code
 * MemorySegment out = arena.allocate(DType.Q8_0.bytesFor(cols));
 * Quantize.row(DType.Q8_0, values, 0, out, 0, cols);
 * }</pre>
 */
public final class Quantize {
    private Quantize() {
    }

    public static boolean supports(DType type) {
        return switch (type) {
            case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 -> true;
            default -> false;
        };
    }

    /** Encodes {@code src[srcOffset .. srcOffset+count)} (whole blocks) into {@code dst} at {@code byteOffset}. */
    public static void row(DType type, float[] src, int srcOffset, MemorySegment dst, long byteOffset, int count) {
        if (count < 0 || count % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " stores blocks of " + type.blockSize() + " values; "
                    + count + " is not a whole number of blocks");
        }
        BlockBytes.checkRanges(type, "quantize", byteOffset, type.bytesFor(count), dst.byteSize(),
                srcOffset, count, src.length);
        switch (type) {
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(BlockBytes.FLOAT, byteOffset + 4L * i, src[srcOffset + i]);
                }
            }
            case F16 -> F16Codec.quantize(src, srcOffset, dst, byteOffset, count);
            case BF16 -> BF16Codec.quantize(src, srcOffset, dst, byteOffset, count);
            case Q4_0 -> Q4_0Codec.quantize(src, srcOffset, dst, byteOffset, count);
            case Q4_1 -> Q4_1Codec.quantize(src, srcOffset, dst, byteOffset, count);
            case Q5_0 -> Q5_0Codec.quantize(src, srcOffset, dst, byteOffset, count);
            case Q5_1 -> Q5_1Codec.quantize(src, srcOffset, dst, byteOffset, count);
            case Q8_0 -> Q8_0Codec.quantize(src, srcOffset, dst, byteOffset, count);
            default -> throw new IllegalArgumentException("no reference quantizer for weight type " + type);
        }
    }
}
