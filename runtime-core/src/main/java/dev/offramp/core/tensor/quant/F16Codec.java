package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * F16: little-endian IEEE binary16, 2 bytes per value. Widening is exact (subnormals, infinities and
 * NaN payloads included), so any correct conversion matches ggml's table or F16C path bit for bit.
 */
public final class F16Codec {
    private F16Codec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = BlockBytes.half(src, offset + 2L * i);
        }
    }

    /** Narrows with round-to-nearest-even, as ggml's FP32_TO_FP16 (F16C {@code vcvtps2ph} imm 0) does. */
    public static void quantize(float[] src, int srcOffset, MemorySegment dst, long offset, int count) {
        for (int i = 0; i < count; i++) {
            BlockBytes.putHalf(dst, offset + 2L * i, src[srcOffset + i]);
        }
    }
}
