package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q2_K: super-blocks of 256 values in 84 bytes; 16 sub-blocks of 16 values, each with a 4-bit scale
 * and a 4-bit minimum.
 * <pre>
 * offset 0  : scales[16] byte s: low nibble = scale of sub-block s, high nibble = its minimum
 * offset 16 : qs[64]     2-bit values
 * offset 80 : d          f16 super-block scale for the scales
 * offset 82 : dmin       f16 super-block scale for the minimums
 * </pre>
 * Value order: the block is two halves of 128; half h uses qs[32h .. 32h+32). Within a half, bit pair
 * p (shift 2p, p = 0..3) of those 32 bytes gives values 32p .. 32p+32: first qs[32h + l] for l &lt; 16
 * (sub-block 8h + 2p), then qs[32h + 16 + l] (sub-block 8h + 2p + 1).
 * value = d * scale * q - dmin * min  (two float products, then the difference, as ggml computes it)
 */
public final class Q2_KCodec {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 84;
    public static final int SCALES = 0;
    public static final int QS = 16;
    public static final int D = 80;
    public static final int DMIN = 82;

    private Q2_KCodec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q2_K", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk + D);
            float dmin = BlockBytes.half(src, blk + DMIN);
            for (int sub = 0; sub < 16; sub++) {
                int sc = BlockBytes.u8(src, blk + SCALES + sub);
                float dl = d * (sc & 0xF);
                float ml = dmin * (sc >>> 4);
                int half = sub >>> 3;
                int shift = 2 * ((sub & 7) >>> 1);
                long q = blk + QS + 32L * half + 16L * (sub & 1);
                for (int l = 0; l < 16; l++) {
                    dst[o + 16 * sub + l] = dl * ((BlockBytes.u8(src, q + l) >>> shift) & 3) - ml;
                }
            }
        }
    }
}
