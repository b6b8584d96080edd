package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q5_0: blocks of 32 values in 22 bytes.
 * <pre>
 * offset 0  : d      f16 scale
 * offset 2  : qh     u32 (little-endian): bit j is the 5th bit of value j
 * offset 6  : qs[16] byte j holds the low 4 bits of value j (low nibble) and of value j+16 (high nibble)
 * value = (q5 - 16) * d
 * </pre>
 */
public final class Q5_0Codec {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 22;
    public static final int QH = 2;
    public static final int QS = 6;

    private Q5_0Codec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q5_0", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk);
            int qh = BlockBytes.u32(src, blk + QH);
            for (int j = 0; j < 16; j++) {
                int q = BlockBytes.u8(src, blk + QS + j);
                int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
                int hi = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                dst[o + j] = (lo - 16) * d;
                dst[o + j + 16] = (hi - 16) * d;
            }
        }
    }

    /** ggml's reference quantizer: like Q4_0 with d = max / -16 and {@code trunc(x * id + 16.5)} clamped to 31. */
    public static void quantize(float[] src, int srcOffset, MemorySegment dst, long offset, int count) {
        BlockBytes.checkBlocks("Q5_0", count, BLOCK);
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
            float d = max / -16;
            float id = d != 0f ? 1.0f / d : 0.0f;
            BlockBytes.putHalf(dst, blk, d);
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(31, Q4_0Codec.truncToByte(src[x + j] * id + 16.5f));
                int q1 = Math.min(31, Q4_0Codec.truncToByte(src[x + 16 + j] * id + 16.5f));
                BlockBytes.putByte(dst, blk + QS + j, (q0 & 0xF) | ((q1 & 0xF) << 4));
                qh |= ((q0 >>> 4) & 1) << j;
                qh |= ((q1 >>> 4) & 1) << (j + 16);
            }
            BlockBytes.putU32(dst, blk + QH, qh);
        }
    }
}
