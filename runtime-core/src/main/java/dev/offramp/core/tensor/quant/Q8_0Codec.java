package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q8_0: blocks of 32 values in 34 bytes.
 * <pre>
 * offset 0  : d      f16 scale
 * offset 2  : qs[32] int8
 * value = q * d
 * </pre>
 */
public final class Q8_0Codec {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 34;
    public static final int QS = 2;

    private Q8_0Codec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q8_0", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk);
            for (int j = 0; j < BLOCK; j++) {
                dst[o + j] = BlockBytes.i8(src, blk + QS + j) * d;
            }
        }
    }

    /**
     * ggml's reference quantizer: d = amax / 127 in float, one reciprocal per block, then C's
     * {@code roundf(x * id)} (halves away from zero, unlike {@link Math#round}).
     */
    public static void quantize(float[] src, int srcOffset, MemorySegment dst, long offset, int count) {
        BlockBytes.checkBlocks("Q8_0", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            long blk = offset + (long) b * BLOCK_BYTES;
            float amax = 0f;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(src[x + j]));
            }
            float d = amax / 127;
            float id = d != 0f ? 1.0f / d : 0.0f;
            BlockBytes.putHalf(dst, blk, d);
            for (int j = 0; j < BLOCK; j++) {
                BlockBytes.putByte(dst, blk + QS + j, (int) roundHalfAway(src[x + j] * id));
            }
        }
    }

    /** C's {@code roundf}: nearest integer, halves away from zero. Exact for any float (double has room). */
    static float roundHalfAway(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (float) Math.copySign(a, v);
    }
}
