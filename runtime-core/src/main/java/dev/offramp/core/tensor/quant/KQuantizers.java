package dev.offramp.core.tensor.quant;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Reference quantizers for the k-quants Q2_K, Q3_K, Q4_K, Q5_K and Q6_K (super-blocks of 256 values),
 * following ggml's {@code quantize_row_q*_K_ref}: per sub-block scale searches ({@link KQuantSearch}),
 * the sub-block scales themselves quantized (4 bits for Q2_K, 6 bits for Q3_K/Q4_K/Q5_K, 8 bits for
 * Q6_K) against one f16 super-block scale, then every value re-rounded against the scale it will
 * actually be decoded with. Byte layouts are documented on {@link Q2_KCodec}, {@link Q3_KCodec},
 * {@link Q4_KCodec}, {@link Q5_KCodec} and {@link Q6_KCodec}.
 *
 * <pre>{@code
 * MemorySegment out = arena.allocate(DType.Q4_K.bytesFor(cols));
 * KQuantizers.row(DType.Q4_K, values, 0, out, 0, cols);
 * }</pre>
 */
public final class KQuantizers {

    private static final int QK = 256;

    private KQuantizers() {
    }

    public static boolean supports(DType type) {
        return type == DType.Q2_K || type == DType.Q3_K || type == DType.Q4_K || type == DType.Q5_K
                || type == DType.Q6_K;
    }

    /** Encodes {@code src[srcOffset .. srcOffset+count)} (whole super-blocks) into {@code dst} at {@code byteOffset}. */
    public static void row(DType type, float[] src, int srcOffset, MemorySegment dst, long byteOffset, int count) {
        if (count < 0 || count % QK != 0) {
            throw new IllegalArgumentException(type + " stores super-blocks of 256 values; " + count + " is not a multiple");
        }
        java.util.Objects.checkFromIndexSize(srcOffset, count, src.length);
        java.util.Objects.checkFromIndexSize(byteOffset, type.bytesFor(count), dst.byteSize());
        for (int b = 0; b < count / QK; b++) {
            int x = srcOffset + b * QK;
            long blk = byteOffset + (long) b * type.blockBytes();
            switch (type) {
                case Q4_K -> scaleMinBlock(src, x, dst, blk, 15, -1f, 0.1f, 20);
                case Q5_K -> scaleMinBlock(src, x, dst, blk, 31, -0.5f, 0.1f, 15);
                case Q6_K -> q6k(src, x, dst, blk);
                case Q3_K -> q3k(src, x, dst, blk);
                case Q2_K -> q2k(src, x, dst, blk);
                default -> throw new IllegalArgumentException("no k-quant quantizer for weight type " + type);
            }
        }
    }

    /** Q4_K (nmax 15) and Q5_K (nmax 31): same scale/min scheme, different bit packing. */
    private static void scaleMinBlock(float[] x, int xo, MemorySegment dst, long blk, int nmax,
                                      float rmin, float rdelta, int nstep) {
        byte[] levels = new byte[QK];
        byte[] aux = new byte[32];
        float[] weights = new float[32];
        float[] scales = new float[8];
        float[] mins = new float[8];
        float[] minOut = new float[1];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) {
                float v = x[xo + 32 * j + l];
                sumX2 += v * v;
            }
            // Weights favour large values: the sub-block RMS plus each value's magnitude.
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) {
                weights[l] = avX + Math.abs(x[xo + 32 * j + l]);
            }
            scales[j] = KQuantSearch.scaleMin(32, nmax, x, xo + 32 * j, weights, levels, 32 * j, minOut, aux,
                    rmin, rdelta, nstep);
            mins[j] = minOut[0];
            maxScale = Math.max(maxScale, scales[j]);
            maxMin = Math.max(maxMin, mins[j]);
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        byte[] packed = new byte[12];
        for (int j = 0; j < 8; j++) {
            int ls = Math.min(63, KQuantSearch.nearestInt(invScale * scales[j]));
            int lm = Math.min(63, KQuantSearch.nearestInt(invMin * mins[j]));
            if (j < 4) {
                packed[j] = (byte) ls;
                packed[j + 4] = (byte) lm;
            } else {
                packed[j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte) ((ls >> 4) << 6);
                packed[j] |= (byte) ((lm >> 4) << 6);
            }
        }
        short dBits = Float.floatToFloat16(maxScale / 63f);
        short dminBits = Float.floatToFloat16(maxMin / 63f);
        float d = Float.float16ToFloat(dBits);
        float dmin = Float.float16ToFloat(dminBits);
        MemorySegment sc = MemorySegment.ofArray(packed);
        for (int j = 0; j < 8; j++) {
            float dj = d * Q4_KCodec.scale(sc, 0, j);
            if (dj == 0) {
                continue;
            }
            float mj = dmin * Q4_KCodec.min(sc, 0, j);
            for (int i = 0; i < 32; i++) {
                int l = KQuantSearch.nearestInt((x[xo + 32 * j + i] + mj) / dj);
                levels[32 * j + i] = (byte) Math.max(0, Math.min(nmax, l));
            }
        }
        dst.set(BlockBytes.HALF, blk, dBits);
        dst.set(BlockBytes.HALF, blk + 2, dminBits);
        MemorySegment.copy(sc, 0, dst, blk + 4, 12);
        if (nmax == 15) {
            long q = blk + Q4_KCodec.QS;
            for (int p = 0; p < 4; p++) {
                for (int l = 0; l < 32; l++) {
                    BlockBytes.putByte(dst, q + 32L * p + l, levels[64 * p + l] | (levels[64 * p + 32 + l] << 4));
                }
            }
        } else {
            // Q5_K: d, dmin, scales[12], qh[32], qs[128]; high bit of sub-block 2p in qh bit 2p, of 2p+1 in bit 2p+1.
            long qh = blk + 16;
            long qs = blk + 48;
            byte[] high = new byte[32];
            for (int p = 0; p < 4; p++) {
                for (int l = 0; l < 32; l++) {
                    int l1 = levels[64 * p + l];
                    int l2 = levels[64 * p + 32 + l];
                    if (l1 > 15) {
                        l1 -= 16;
                        high[l] |= (byte) (1 << (2 * p));
                    }
                    if (l2 > 15) {
                        l2 -= 16;
                        high[l] |= (byte) (2 << (2 * p));
                    }
                    BlockBytes.putByte(dst, qs + 32L * p + l, l1 | (l2 << 4));
                }
            }
            MemorySegment.copy(MemorySegment.ofArray(high), 0, dst, qh, 32);
        }
    }

    /** Q6_K: ql[128], qh[64], int8 scales[16], f16 d; values are 6-bit, stored biased by 32. */
    private static void q6k(float[] x, int xo, MemorySegment dst, long blk) {
        byte[] levels = new byte[QK];
        float[] scales = new float[16];
        float maxScale = 0;
        float maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float s = KQuantSearch.symmetric(16, 32, x, xo + 16 * ib, levels, 16 * ib);
            scales[ib] = s;
            if (Math.abs(s) > maxAbsScale) {
                maxAbsScale = Math.abs(s);
                maxScale = s;
            }
        }
        if (maxAbsScale < KQuantSearch.GROUP_MAX_EPS) {
            dst.asSlice(blk, 210).fill((byte) 0);
            return;
        }
        float iscale = -128f / maxScale;
        short dBits = Float.floatToFloat16(1 / iscale);
        float d = Float.float16ToFloat(dBits);
        byte[] sc = new byte[16];
        for (int ib = 0; ib < 16; ib++) {
            sc[ib] = (byte) Math.min(127, KQuantSearch.nearestInt(iscale * scales[ib]));
        }
        for (int j = 0; j < 16; j++) {
            float dj = d * sc[j];
            if (dj == 0) {
                continue;
            }
            for (int i = 0; i < 16; i++) {
                int l = KQuantSearch.nearestInt(x[xo + 16 * j + i] / dj);
                levels[16 * j + i] = (byte) (Math.max(-32, Math.min(31, l)) + 32);
            }
        }
        long ql = blk;
        long qh = blk + 128;
        for (int half = 0; half < 2; half++) {
            int j = 128 * half;
            for (int l = 0; l < 32; l++) {
                int q1 = levels[j + l];
                int q2 = levels[j + l + 32];
                int q3 = levels[j + l + 64];
                int q4 = levels[j + l + 96];
                BlockBytes.putByte(dst, ql + l, (q1 & 0xF) | ((q3 & 0xF) << 4));
                BlockBytes.putByte(dst, ql + 32 + l, (q2 & 0xF) | ((q4 & 0xF) << 4));
                BlockBytes.putByte(dst, qh + l, (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
        MemorySegment.copy(MemorySegment.ofArray(sc), 0, dst, blk + 192, 16);
        dst.set(BlockBytes.HALF, blk + 208, dBits);
    }

    /** Q3_K: 16 sub-blocks of 16, signed 3-bit values, signed 6-bit scales (biased by 32) against f16 d. */
    private static void q3k(float[] x, int xo, MemorySegment dst, long blk) {
        byte[] levels = new byte[QK];
        float[] scales = new float[16];
        float maxScale = 0;
        float amax = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = KQuantSearch.q3(16, 4, x, xo + 16 * j, levels, 16 * j);
            float a = Math.abs(scales[j]);
            if (a > amax) {
                amax = a;
                maxScale = scales[j];
            }
        }
        byte[] sc = new byte[12];
        short dBits;
        if (maxScale != 0) {
            // Negative iscale: the sub-block with the largest |scale| maps to -32, the 6-bit range's far end.
            float iscale = -32f / maxScale;
            for (int j = 0; j < 16; j++) {
                int l = Math.max(-32, Math.min(31, KQuantSearch.nearestInt(iscale * scales[j]))) + 32;
                if (j < 8) {
                    sc[j] = (byte) (l & 0xF);
                } else {
                    sc[j - 8] |= (byte) ((l & 0xF) << 4);
                }
                sc[8 + j % 4] |= (byte) ((l >> 4) << (2 * (j / 4)));
            }
            dBits = Float.floatToFloat16(1 / iscale);
        } else {
            dBits = Float.floatToFloat16(0f);
        }
        float d = Float.float16ToFloat(dBits);
        for (int j = 0; j < 16; j++) {
            int lo = j < 8 ? sc[j] & 0xF : (sc[j - 8] & 0xFF) >>> 4;
            int hi = ((sc[8 + j % 4] & 0xFF) >>> (2 * (j / 4))) & 3;
            float dj = d * ((lo | (hi << 4)) - 32);
            if (dj == 0) {
                continue;
            }
            for (int i = 0; i < 16; i++) {
                int l = KQuantSearch.nearestInt(x[xo + 16 * j + i] / dj);
                levels[16 * j + i] = (byte) (Math.max(-4, Math.min(3, l)) + 4);
            }
        }
        // The 3rd bit of value v goes to hmask[v % 32], bit v / 32; the low two bits are packed as Q2_K's.
        byte[] hmask = new byte[32];
        for (int v = 0; v < QK; v++) {
            if (levels[v] > 3) {
                hmask[v % 32] |= (byte) (1 << (v / 32));
                levels[v] -= 4;
            }
        }
        MemorySegment.copy(MemorySegment.ofArray(hmask), 0, dst, blk + Q3_KCodec.HMASK, 32);
        packTwoBit(levels, dst, blk + Q3_KCodec.QS);
        MemorySegment.copy(MemorySegment.ofArray(sc), 0, dst, blk + Q3_KCodec.SCALES, 12);
        dst.set(BlockBytes.HALF, blk + Q3_KCodec.D, dBits);
    }

    /** Q2_K: 16 sub-blocks of 16, 2-bit values with a scale and a min each (4 bits apiece) against f16 d, dmin. */
    private static void q2k(float[] x, int xo, MemorySegment dst, long blk) {
        byte[] levels = new byte[QK];
        byte[] aux = new byte[16];
        float[] weights = new float[16];
        float[] scales = new float[16];
        float[] mins = new float[16];
        float[] minOut = new float[1];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) {
                weights[l] = Math.abs(x[xo + 16 * j + l]);
            }
            scales[j] = KQuantSearch.scaleMin(16, 3, x, xo + 16 * j, weights, levels, 16 * j, minOut, aux,
                    -0.5f, 0.1f, 15, true);
            mins[j] = minOut[0];
            maxScale = Math.max(maxScale, scales[j]);
            maxMin = Math.max(maxMin, mins[j]);
        }
        byte[] sc = new byte[16];
        short dBits = Float.floatToFloat16(0f);
        short dminBits = Float.floatToFloat16(0f);
        if (maxScale > 0) {
            float iscale = 15f / maxScale;
            for (int j = 0; j < 16; j++) {
                sc[j] = (byte) KQuantSearch.nearestInt(iscale * scales[j]);
            }
            dBits = Float.floatToFloat16(maxScale / 15f);
        }
        if (maxMin > 0) {
            float iscale = 15f / maxMin;
            for (int j = 0; j < 16; j++) {
                sc[j] |= (byte) (KQuantSearch.nearestInt(iscale * mins[j]) << 4);
            }
            dminBits = Float.floatToFloat16(maxMin / 15f);
        }
        float d = Float.float16ToFloat(dBits);
        float dmin = Float.float16ToFloat(dminBits);
        for (int j = 0; j < 16; j++) {
            float dj = d * (sc[j] & 0xF);
            if (dj == 0) {
                continue;
            }
            float mj = dmin * ((sc[j] & 0xFF) >>> 4);
            for (int i = 0; i < 16; i++) {
                int l = KQuantSearch.nearestInt((x[xo + 16 * j + i] + mj) / dj);
                levels[16 * j + i] = (byte) Math.max(0, Math.min(3, l));
            }
        }
        MemorySegment.copy(MemorySegment.ofArray(sc), 0, dst, blk + Q2_KCodec.SCALES, 16);
        packTwoBit(levels, dst, blk + Q2_KCodec.QS);
        dst.set(BlockBytes.HALF, blk + Q2_KCodec.D, dBits);
        dst.set(BlockBytes.HALF, blk + Q2_KCodec.DMIN, dminBits);
    }

    /** Two halves of 128 values; byte l of half h holds values 128h + l, +32, +64, +96 in bit pairs 0..3. */
    private static void packTwoBit(byte[] levels, MemorySegment dst, long qs) {
        for (int h = 0; h < 2; h++) {
            int j = 128 * h;
            for (int l = 0; l < 32; l++) {
                BlockBytes.putByte(dst, qs + 32L * h + l, levels[j + l] | (levels[j + l + 32] << 2)
                        | (levels[j + l + 64] << 4) | (levels[j + l + 96] << 6));
            }
        }
    }
}
