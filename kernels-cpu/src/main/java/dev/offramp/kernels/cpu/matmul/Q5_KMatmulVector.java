package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Vector Q5_K kernel: Q4_K's nibbles plus bit j of qh[l] as the 5th bit of value 32j + l. */
public final class Q5_KMatmulVector extends QuantMatmulVector {
    public Q5_KMatmulVector(VectorSpecies<Float> species) {
        super(DType.Q5_K, species, new Q5_KMatmulScalar());
    }

    @Override
    int groupSize() {
        return 32;
    }

    @Override
    void decodeQuants(MemorySegment w, long base, int cols, Scratch s) {
        byte[] q = s.q;
        for (int b = 0, nb = cols >>> 8; b < nb; b++) {
            long blk = base + 176L * b;
            QuantKScales.unpack(w, blk + 4, QuantMatmulScalar.half(w, blk), QuantMatmulScalar.half(w, blk + 2),
                    s.scale, s.min, 8 * b);
            ByteVector h0 = ByteVector.fromMemorySegment(B16, w, blk + 16, ByteOrder.LITTLE_ENDIAN);
            ByteVector h1 = ByteVector.fromMemorySegment(B16, w, blk + 32, ByteOrder.LITTLE_ENDIAN);
            for (int pair = 0; pair < 4; pair++) {
                long at = blk + 48 + 32L * pair;
                int o = 256 * b + 64 * pair;
                int jl = 2 * pair;
                int jh = 2 * pair + 1;
                ByteVector v0 = ByteVector.fromMemorySegment(B16, w, at, ByteOrder.LITTLE_ENDIAN);
                ByteVector v1 = ByteVector.fromMemorySegment(B16, w, at + 16, ByteOrder.LITTLE_ENDIAN);
                v0.and((byte) 0x0F).or(h0.lanewise(VectorOperators.LSHR, jl).and((byte) 1).lanewise(VectorOperators.LSHL, 4))
                        .intoArray(q, o);
                v1.and((byte) 0x0F).or(h1.lanewise(VectorOperators.LSHR, jl).and((byte) 1).lanewise(VectorOperators.LSHL, 4))
                        .intoArray(q, o + 16);
                v0.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .or(h0.lanewise(VectorOperators.LSHR, jh).and((byte) 1).lanewise(VectorOperators.LSHL, 4))
                        .intoArray(q, o + 32);
                v1.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .or(h1.lanewise(VectorOperators.LSHR, jh).and((byte) 1).lanewise(VectorOperators.LSHL, 4))
                        .intoArray(q, o + 48);
            }
        }
    }
}
