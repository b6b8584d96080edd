package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q5_K: super-blocks of 256 values in 176 bytes; like Q4_K plus one high bit per value.
 * <pre>
 * offset 0  : d          f16 super-block scale for the scales
 * offset 2  : dmin       f16 super-block scale for the minimums
 * offset 4  : scales[12] 6-bit scales and minimums, packed exactly as in Q4_K
 * offset 16 : qh[32]     5th bits: value 64p + l (l &lt; 32) uses bit 2p of qh[l], value 64p + 32 + l bit 2p + 1
 * offset 48 : qs[128]    low 4 bits, in Q4_K's order
 * </pre>
 * value = (d * scale) * q5 - (dmin * min)
 */
public final class Q5_KCodec {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 176;
    public static final int D = 0;
    public static final int DMIN = 2;
    public static final int SCALES = 4;
    public static final int QH = 16;
    public static final int QS = 48;

    private Q5_KCodec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q5_K", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk + D);
            float dmin = BlockBytes.half(src, blk + DMIN);
            for (int p = 0; p < 4; p++) {
                float d1 = d * Q4_KCodec.scale(src, blk + SCALES, 2 * p);
                float m1 = dmin * Q4_KCodec.min(src, blk + SCALES, 2 * p);
                float d2 = d * Q4_KCodec.scale(src, blk + SCALES, 2 * p + 1);
                float m2 = dmin * Q4_KCodec.min(src, blk + SCALES, 2 * p + 1);
                long q = blk + QS + 32L * p;
                for (int l = 0; l < 32; l++) {
                    int v = BlockBytes.u8(src, q + l);
                    int h = BlockBytes.u8(src, blk + QH + l);
                    int lo = (v & 0xF) | (((h >>> (2 * p)) & 1) << 4);
                    int hi = (v >>> 4) | (((h >>> (2 * p + 1)) & 1) << 4);
                    dst[o + 64 * p + l] = d1 * lo - m1;
                    dst[o + 64 * p + 32 + l] = d2 * hi - m2;
                }
            }
        }
    }
}
