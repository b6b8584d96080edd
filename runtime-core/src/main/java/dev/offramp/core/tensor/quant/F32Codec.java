package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/** F32: plain little-endian IEEE binary32 values, 4 bytes each. */
public final class F32Codec {
    private F32Codec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = src.get(BlockBytes.FLOAT, offset + 4L * i);
        }
    }
}
