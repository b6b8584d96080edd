package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q5_1: blocks of 32 values in 24 bytes, with an offset (minimum) per block.
 * <pre>
 * offset 0  : d      f16 scale
 * offset 2  : m      f16 minimum
 * offset 4  : qh     u32 (little-endian): bit j is the 5th bit of value j
 * offset 8  : qs[16] byte j holds the low 4 bits of value j (low nibble) and of value j+16 (high nibble)
 * value = q5 * d + m
 * </pre>
 */
public final class Q5_1Codec {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 24;
    public static final int QH = 4;
    public static final int QS = 8;

    private Q5_1Codec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q5_1", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk);
            float m = BlockBytes.half(src, blk + 2);
            int qh = BlockBytes.u32(src, blk + QH);
            for (int j = 0; j < 16; j++) {
                int q = BlockBytes.u8(src, blk + QS + j);
                int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
                int hi = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                dst[o + j] = lo * d + m;
                dst[o + j + 16] = hi * d + m;
            }
        }
    }

    /**
     * ggml's reference quantizer: d = (max - min) / 31, {@code (uint8) ((x - min) * id + 0.5)}. Unlike
     * Q4_1 ggml does not clamp here; the value cannot exceed 31.5 before truncation, and only the low
     * 5 bits are stored, as in ggml.
     */
    public static void quantize(float[] src, int srcOffset, MemorySegment dst, long offset, int count) {
        BlockBytes.checkBlocks("Q5_1", count, BLOCK);
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
            float d = (max - min) / 31;
            float id = d != 0f ? 1.0f / d : 0.0f;
            BlockBytes.putHalf(dst, blk, d);
            BlockBytes.putHalf(dst, blk + 2, min);
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                int q0 = ((int) ((src[x + j] - min) * id + 0.5f)) & 0xFF;
                int q1 = ((int) ((src[x + 16 + j] - min) * id + 0.5f)) & 0xFF;
                BlockBytes.putByte(dst, blk + QS + j, (q0 & 0xF) | ((q1 & 0xF) << 4));
                qh |= ((q0 >>> 4) & 1) << j;
                qh |= ((q1 >>> 4) & 1) << (j + 16);
            }
            BlockBytes.putU32(dst, blk + QH, qh);
        }
    }
}
