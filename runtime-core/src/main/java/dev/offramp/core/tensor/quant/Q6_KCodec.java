package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q6_K: super-blocks of 256 values in 210 bytes; 16 sub-blocks of 16 values with signed 8-bit scales.
 * <pre>
 * offset 0   : ql[128]    low 4 bits
 * offset 128 : qh[64]     high 2 bits
 * offset 192 : scales[16] int8 scale per sub-block
 * offset 208 : d          f16 super-block scale
 * </pre>
 * Value order: two halves of 128 (h = 0, 1) using ql[64h..64h+64), qh[32h..32h+32) and
 * scales[8h..8h+8). For l = 0..31 of half h, with H = qh[32h + l]:
 * <pre>
 * value 128h + l      = (ql[64h + l]      &amp; 15) | ((H      &amp; 3) &lt;&lt; 4), scale 8h + l/16
 * value 128h + 32 + l = (ql[64h + 32 + l] &amp; 15) | ((H &gt;&gt; 2 &amp; 3) &lt;&lt; 4), scale 8h + l/16 + 2
 * value 128h + 64 + l = (ql[64h + l]      &gt;&gt; 4) | ((H &gt;&gt; 4 &amp; 3) &lt;&lt; 4), scale 8h + l/16 + 4
 * value 128h + 96 + l = (ql[64h + 32 + l] &gt;&gt; 4) | ((H &gt;&gt; 6 &amp; 3) &lt;&lt; 4), scale 8h + l/16 + 6
 * </pre>
 * each minus 32; value = (d * scale) * q
 */
public final class Q6_KCodec {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 210;
    public static final int QL = 0;
    public static final int QH = 128;
    public static final int SCALES = 192;
    public static final int D = 208;

    private Q6_KCodec() {
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q6_K", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk + D);
            for (int h = 0; h < 2; h++) {
                long ql = blk + QL + 64L * h;
                long qh = blk + QH + 32L * h;
                long sc = blk + SCALES + 8L * h;
                int y = o + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int is = l >>> 4;
                    int a = BlockBytes.u8(src, ql + l);
                    int c = BlockBytes.u8(src, ql + 32 + l);
                    int hb = BlockBytes.u8(src, qh + l);
                    int q1 = ((a & 0xF) | ((hb & 3) << 4)) - 32;
                    int q2 = ((c & 0xF) | (((hb >>> 2) & 3) << 4)) - 32;
                    int q3 = ((a >>> 4) | (((hb >>> 4) & 3) << 4)) - 32;
                    int q4 = ((c >>> 4) | (((hb >>> 6) & 3) << 4)) - 32;
                    dst[y + l] = d * BlockBytes.i8(src, sc + is) * q1;
                    dst[y + 32 + l] = d * BlockBytes.i8(src, sc + is + 2) * q2;
                    dst[y + 64 + l] = d * BlockBytes.i8(src, sc + is + 4) * q3;
                    dst[y + 96 + l] = d * BlockBytes.i8(src, sc + is + 6) * q4;
                }
            }
        }
    }
}
