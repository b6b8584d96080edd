package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/** BF16: the upper 16 bits of an IEEE binary32, little-endian; widening is a 16-bit shift. */
public final class BF16Codec {
    private BF16Codec() {
    }

    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = toFloat(src.get(BlockBytes.HALF, offset + 2L * i));
        }
    }

    /**
     * Narrows like ggml's {@code ggml_compute_fp32_to_bf16}: NaN keeps its sign and becomes quiet,
     * everything else rounds to nearest even on the dropped 16 bits.
     */
    public static short fromFloat(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7FFF + ((u >>> 16) & 1))) >>> 16);
    }

    public static void quantize(float[] src, int srcOffset, MemorySegment dst, long offset, int count) {
        for (int i = 0; i < count; i++) {
            dst.set(BlockBytes.HALF, offset + 2L * i, fromFloat(src[srcOffset + i]));
        }
    }
}
