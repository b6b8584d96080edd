package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Q4_K: super-blocks of 256 values in 144 bytes; 8 sub-blocks of 32 values, each with a 6-bit scale
 * and a 6-bit minimum.
 * <pre>
 * offset 0  : d          f16 super-block scale for the scales
 * offset 2  : dmin       f16 super-block scale for the minimums
 * offset 4  : scales[12] eight 6-bit scales and eight 6-bit minimums (packing below)
 * offset 16 : qs[128]    4-bit values
 * </pre>
 * Scale/min packing (ggml's {@code get_scale_min_k4}), for sub-block j = 0..7:
 * j &lt; 4: scale = s[j] &amp; 63, min = s[j + 4] &amp; 63;
 * j &gt;= 4: scale = (s[j + 4] &amp; 15) | ((s[j - 4] &gt;&gt; 6) &lt;&lt; 4), min = (s[j + 4] &gt;&gt; 4) | ((s[j] &gt;&gt; 6) &lt;&lt; 4).
 * <p>Value order: pair p = 0..3 of sub-blocks uses qs[32p .. 32p+32): low nibbles are sub-block 2p,
 * high nibbles sub-block 2p + 1.
 * value = (d * scale) * q - (dmin * min)
 */
public final class Q4_KCodec {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 144;
    public static final int D = 0;
    public static final int DMIN = 2;
    public static final int SCALES = 4;
    public static final int QS = 16;

    private Q4_KCodec() {
    }

    /** The 6-bit scale of sub-block {@code j} (0..7) from the 12 packed bytes at {@code scales}. */
    public static int scale(MemorySegment src, long scales, int j) {
        if (j < 4) {
            return BlockBytes.u8(src, scales + j) & 63;
        }
        return (BlockBytes.u8(src, scales + j + 4) & 0xF) | ((BlockBytes.u8(src, scales + j - 4) >>> 6) << 4);
    }

    /** The 6-bit minimum of sub-block {@code j} (0..7) from the 12 packed bytes at {@code scales}. */
    public static int min(MemorySegment src, long scales, int j) {
        if (j < 4) {
            return BlockBytes.u8(src, scales + j + 4) & 63;
        }
        return (BlockBytes.u8(src, scales + j + 4) >>> 4) | ((BlockBytes.u8(src, scales + j) >>> 6) << 4);
    }

    public static void dequantize(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        BlockBytes.checkBlocks("Q4_K", count, BLOCK);
        for (int b = 0; b < count / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            int o = dstOffset + b * BLOCK;
            float d = BlockBytes.half(src, blk + D);
            float dmin = BlockBytes.half(src, blk + DMIN);
            for (int p = 0; p < 4; p++) {
                float d1 = d * scale(src, blk + SCALES, 2 * p);
                float m1 = dmin * min(src, blk + SCALES, 2 * p);
                float d2 = d * scale(src, blk + SCALES, 2 * p + 1);
                float m2 = dmin * min(src, blk + SCALES, 2 * p + 1);
                long q = blk + QS + 32L * p;
                for (int l = 0; l < 32; l++) {
                    int v = BlockBytes.u8(src, q + l);
                    dst[o + 64 * p + l] = d1 * (v & 0xF) - m1;
                    dst[o + 64 * p + 32 + l] = d2 * (v >>> 4) - m2;
                }
            }
        }
    }
}
