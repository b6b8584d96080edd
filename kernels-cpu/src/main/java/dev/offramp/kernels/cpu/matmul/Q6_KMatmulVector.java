package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector Q6_K kernel: per half of 128 values, byte l of ql/ql+32/qh yields values l, l+32, l+64, l+96
 * (low nibbles, low nibbles of the second 32, high nibbles, high nibbles; 2 high bits each from qh),
 * minus 32, times (d * int8 scale) of their 16-value sub-block.
 */
public final class Q6_KMatmulVector extends QuantMatmulVector {
    public Q6_KMatmulVector(VectorSpecies<Float> species) {
        super(DType.Q6_K, species, new Q6_KMatmulScalar());
    }

    @Override
    int groupSize() {
        return 16;
    }

    @Override
    void decodeQuants(MemorySegment w, long base, int cols, Scratch s) {
        byte[] q = s.q;
        for (int b = 0, nb = cols >>> 8; b < nb; b++) {
            long blk = base + 210L * b;
            float d = QuantMatmulScalar.half(w, blk + 208);
            for (int i = 0; i < 16; i++) {
                s.scale[16 * b + i] = d * QuantMatmulScalar.i8(w, blk + 192 + i);
                s.min[16 * b + i] = 0f;
            }
            for (int h = 0; h < 2; h++) {
                for (int l0 = 0; l0 < 32; l0 += 16) {
                    long ql = blk + 64L * h + l0;
                    ByteVector a = ByteVector.fromMemorySegment(B16, w, ql, ByteOrder.LITTLE_ENDIAN);
                    ByteVector c = ByteVector.fromMemorySegment(B16, w, ql + 32, ByteOrder.LITTLE_ENDIAN);
                    ByteVector hb = ByteVector.fromMemorySegment(B16, w, blk + 128 + 32L * h + l0, ByteOrder.LITTLE_ENDIAN);
                    int o = 256 * b + 128 * h + l0;
                    a.and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32)
                            .intoArray(q, o);
                    c.and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32)
                            .intoArray(q, o + 32);
                    a.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).or(hb.and((byte) 0x30)).sub((byte) 32)
                            .intoArray(q, o + 64);
                    c.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30))
                            .sub((byte) 32).intoArray(q, o + 96);
                }
            }
        }
    }
}
