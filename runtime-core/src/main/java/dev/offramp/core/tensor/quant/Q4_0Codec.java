package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q4_0: blocks of 32 values in 18 bytes.
 * <pre>
 * offset 0  : d      f16 scale
 * offset 2  : qs[16] nibbles; byte j holds value j (low nibble) and value j+16 (high nibble)
 * value = (nibble - 8) * d
 * </pre>
 * The split into "first half in low nibbles, second half in high nibbles" (not interleaved pairs)
 * is what a reader most often gets wrong.
 */
public final class Q4_0Codec {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 18;
    public static final int QS = 2;

    private Q4_0Codec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q4_0", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk);
            for (int j = 0; j < 16; j++) {
                int q = BlockBytes.u8(src, blk + QS + j);
                dst[o + j] = ((q & 0xF) - 8) * d;
                dst[o + j + 16] = ((q >>> 4) - 8) * d;
            }
        }
    }

    /**
     * ggml's reference quantizer: the scale is the signed value of largest magnitude divided by -8
     * (so that value maps to nibble 0 exactly), one float reciprocal per block, then
     * {@code trunc(x * id + 8.5)} clamped to 15.
     */
    public static void quantize(float[] src, int srcOffset, MemorySegment dst, long offset, int count) {
        BlockBytes.checkBlocks("Q4_0", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            long blk = offset + (long) b * BLOCK_BYTES;
            float amax = 0f;
            float max = 0f;
            for (int j = 0; j < BLOCK; j++) {
                float v = src[x + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0f ? 1.0f / d : 0.0f;
            BlockBytes.putHalf(dst, blk, d);
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(15, truncToByte(src[x + j] * id + 8.5f));
                int q1 = Math.min(15, truncToByte(src[x + 16 + j] * id + 8.5f));
                BlockBytes.putByte(dst, blk + QS + j, q0 | (q1 << 4));
            }
        }
    }

    /** C's {@code (int8_t) f} for the in-range values the quantizers produce: truncation toward zero. */
    static int truncToByte(float f) {
        return (byte) (int) f;
    }
}
