package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Vector Q3_K kernel: 2 low bits from qs, minus 4 where the hmask bit is clear; per 16 values d*(scale-32). */
public final class Q3_KMatmulVector extends QuantMatmulVector {
    public Q3_KMatmulVector(VectorSpecies<Float> species) {
        super(DType.Q3_K, species, new Q3_KMatmulScalar());
    }

    @Override
    int groupSize() {
        return 16;
    }

    @Override
    void decodeQuants(MemorySegment w, long base, int cols, Scratch s) {
        byte[] q = s.q;
        for (int b = 0, nb = cols >>> 8; b < nb; b++) {
            long blk = base + 110L * b;
            scales(w, blk, s, 16 * b);
            for (int h = 0; h < 2; h++) {
                ByteVector m0 = ByteVector.fromMemorySegment(B16, w, blk, ByteOrder.LITTLE_ENDIAN);
                ByteVector m1 = ByteVector.fromMemorySegment(B16, w, blk + 16, ByteOrder.LITTLE_ENDIAN);
                ByteVector v0 = ByteVector.fromMemorySegment(B16, w, blk + 32 + 32L * h, ByteOrder.LITTLE_ENDIAN);
                ByteVector v1 = ByteVector.fromMemorySegment(B16, w, blk + 48 + 32L * h, ByteOrder.LITTLE_ENDIAN);
                int o = 256 * b + 128 * h;
                for (int p = 0; p < 4; p++) {
                    int bit = 4 * h + p;
                    // (q2 | hbit << 2) - 4: a set high bit means "no offset".
                    v0.lanewise(VectorOperators.LSHR, 2 * p).and((byte) 3)
                            .or(m0.lanewise(VectorOperators.LSHR, bit).and((byte) 1).lanewise(VectorOperators.LSHL, 2))
                            .sub((byte) 4).intoArray(q, o + 32 * p);
                    v1.lanewise(VectorOperators.LSHR, 2 * p).and((byte) 3)
                            .or(m1.lanewise(VectorOperators.LSHR, bit).and((byte) 1).lanewise(VectorOperators.LSHL, 2))
                            .sub((byte) 4).intoArray(q, o + 32 * p + 16);
                }
            }
        }
    }

    /**
     * The 16 sub-block scales d * (scale - 32). Branch-free on 32-bit words (byte k of word j is scale
     * 4j + k): C2 would fully unroll a per-scale loop with branches, and the result, inlined with the
     * vector loop, exceeded its inlining budget and boxed vectors.
     */
    private static void scales(MemorySegment w, long blk, Scratch s, int at) {
        float d = QuantMatmulScalar.half(w, blk + 108);
        int lo0 = w.get(QuantMatmulScalar.U32, blk + 96);
        int lo1 = w.get(QuantMatmulScalar.U32, blk + 100);
        int hi = w.get(QuantMatmulScalar.U32, blk + 104);
        int s0 = (lo0 & 0x0F0F0F0F) | ((hi & 0x03030303) << 4);
        int s1 = (lo1 & 0x0F0F0F0F) | (((hi >>> 2) & 0x03030303) << 4);
        int s2 = ((lo0 >>> 4) & 0x0F0F0F0F) | (((hi >>> 4) & 0x03030303) << 4);
        int s3 = ((lo1 >>> 4) & 0x0F0F0F0F) | (((hi >>> 6) & 0x03030303) << 4);
        for (int k = 0; k < 4; k++) {
            int sh = 8 * k;
            s.scale[at + k] = d * (((s0 >>> sh) & 0xFF) - 32);
            s.scale[at + 4 + k] = d * (((s1 >>> sh) & 0xFF) - 32);
            s.scale[at + 8 + k] = d * (((s2 >>> sh) & 0xFF) - 32);
            s.scale[at + 12 + k] = d * (((s3 >>> sh) & 0xFF) - 32);
            s.min[at + k] = 0f;
            s.min[at + 4 + k] = 0f;
            s.min[at + 8 + k] = 0f;
            s.min[at + 12 + k] = 0f;
        }
    }
}
