package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q4_1: blocks of 32 values in 20 bytes, with an offset (minimum) per block.
 * <pre>
 * offset 0  : d      f16 scale
 * offset 2  : m      f16 minimum
 * offset 4  : qs[16] byte j holds value j (low nibble) and value j+16 (high nibble)
 * value = nibble * d + m
 * </pre>
 */
public final class Q4_1Codec {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 20;
    public static final int QS = 4;

    private Q4_1Codec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q4_1", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk);
            float m = BlockBytes.half(src, blk + 2);
            for (int j = 0; j < 16; j++) {
                int q = BlockBytes.u8(src, blk + QS + j);
                dst[o + j] = (q & 0xF) * d + m;
                dst[o + j + 16] = (q >>> 4) * d + m;
            }
        }
    }

    /** ggml's reference quantizer: d = (max - min) / 15, {@code trunc((x - min) * id + 0.5)} clamped to 15. */
    public static void quantize(float[] src, int srcOffset, MemorySegment dst, long offset, int count) {
        BlockBytes.checkBlocks("Q4_1", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            long blk = offset + (long) b * BLOCK_BYTES;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < BLOCK; j++) {
                float v = src[x + j];
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            float d = (max - min) / 15;
            float id = d != 0f ? 1.0f / d : 0.0f;
            BlockBytes.putHalf(dst, blk, d);
            BlockBytes.putHalf(dst, blk + 2, min);
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(15, Q4_0Codec.truncToByte((src[x + j] - min) * id + 0.5f));
                int q1 = Math.min(15, Q4_0Codec.truncToByte((src[x + 16 + j] - min) * id + 0.5f));
                BlockBytes.putByte(dst, blk + QS + j, q0 | (q1 << 4));
            }
        }
    }
}
