package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q3_K: super-blocks of 256 values in 110 bytes; 16 sub-blocks of 16 values with signed 6-bit scales.
 * <pre>
 * offset 0   : hmask[32]  high (3rd) bit of each value; SET means "no offset", clear means "minus 4"
 * offset 32  : qs[64]     low 2 bits of each value
 * offset 96  : scales[12] sixteen 6-bit scales, biased by 32
 * offset 108 : d          f16 super-block scale
 * </pre>
 * Scale packing: scale i has low 4 bits {@code i < 8 ? scales[i] & 15 : scales[i - 8] >> 4} and high
 * 2 bits {@code (scales[8 + i % 4] >> (2 * (i / 4))) & 3}; its value is that 6-bit number minus 32.
 * <p>Value order: as Q2_K (two halves of 128, bit pair p of qs[32h..32h+32) for values 32p..32p+32 of
 * half h, sub-block 8h + 2p on bytes l &lt; 16 and 8h + 2p + 1 on bytes 16..31). The high bit of value
 * 128h + 32p + l is bit (4h + p) of hmask[l], with l = 0..31.
 * value = (d * scale) * (q2 - (hbit ? 0 : 4))
 */
public final class Q3_KCodec {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 110;
    public static final int HMASK = 0;
    public static final int QS = 32;
    public static final int SCALES = 96;
    public static final int D = 108;

    private Q3_KCodec() {
    }

    /** Signed scale of sub-block {@code i} (0..15), already unbiased (-32..31). */
    public static int scale(MemorySegment src, long blk, int i) {
        long s = blk + SCALES;
        int lo = i < 8 ? BlockBytes.u8(src, s + i) & 0xF : BlockBytes.u8(src, s + i - 8) >>> 4;
        int hi = (BlockBytes.u8(src, s + 8 + (i & 3)) >>> (2 * (i >>> 2))) & 3;
        return (lo | (hi << 4)) - 32;
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q3_K", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk + D);
            for (int sub = 0; sub < 16; sub++) {
                float dl = d * scale(src, blk, sub);
                int half = sub >>> 3;
                int pair = (sub & 7) >>> 1;
                int shift = 2 * pair;
                int hbit = 4 * half + pair;
                int l0 = 16 * (sub & 1);
                long q = blk + QS + 32L * half;
                for (int l = l0; l < l0 + 16; l++) {
                    int q2 = (BlockBytes.u8(src, q + l) >>> shift) & 3;
                    int h = (BlockBytes.u8(src, blk + HMASK + l) >>> hbit) & 1;
                    dst[o + 16 * sub + (l - l0)] = dl * (q2 - (h != 0 ? 0 : 4));
                }
            }
        }
    }
}
