package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Vector Q2_K kernel: 2-bit quants, per 16 values scale d*(sc&15) and min dmin*(sc>>4). */
public final class Q2_KMatmulVector extends QuantMatmulVector {
    public Q2_KMatmulVector(VectorSpecies<Float> species) {
        super(DType.Q2_K, species, new Q2_KMatmulScalar());
    }

    @Override
    int groupSize() {
        return 16;
    }

    @Override
    void decodeQuants(MemorySegment w, long base, int cols, Scratch s) {
        byte[] q = s.q;
        for (int b = 0, nb = cols >>> 8; b < nb; b++) {
            long blk = base + 84L * b;
            float d = QuantMatmulScalar.half(w, blk + 80);
            float dmin = QuantMatmulScalar.half(w, blk + 82);
            for (int sub = 0; sub < 16; sub++) {
                int sc = QuantMatmulScalar.u8(w, blk + sub);
                s.scale[16 * b + sub] = d * (sc & 0xF);
                s.min[16 * b + sub] = dmin * (sc >>> 4);
            }
            for (int h = 0; h < 2; h++) {
                ByteVector v0 = ByteVector.fromMemorySegment(B16, w, blk + 16 + 32L * h, ByteOrder.LITTLE_ENDIAN);
                ByteVector v1 = ByteVector.fromMemorySegment(B16, w, blk + 32 + 32L * h, ByteOrder.LITTLE_ENDIAN);
                int o = 256 * b + 128 * h;
                for (int p = 0; p < 4; p++) {
                    v0.lanewise(VectorOperators.LSHR, 2 * p).and((byte) 3).intoArray(q, o + 32 * p);
                    v1.lanewise(VectorOperators.LSHR, 2 * p).and((byte) 3).intoArray(q, o + 32 * p + 16);
                }
            }
        }
    }
}
