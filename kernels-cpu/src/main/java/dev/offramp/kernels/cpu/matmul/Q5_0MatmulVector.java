package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Vector Q5_0 kernel: 4-bit nibbles plus the 5th bit from the u32 qh, minus 16, times d. */
public final class Q5_0MatmulVector extends QuantMatmulVector {
    public Q5_0MatmulVector(VectorSpecies<Float> species) {
        super(DType.Q5_0, species, new Q5_0MatmulScalar());
    }

    @Override
    int groupSize() {
        return 32;
    }

    @Override
    void decodeQuants(MemorySegment w, long base, int cols, Scratch s) {
        byte[] q = s.q;
        ByteVector zero = ByteVector.zero(B16);
        for (int b = 0, nb = cols >>> 5; b < nb; b++) {
            long blk = base + 22L * b;
            s.scale[b] = QuantMatmulScalar.half(w, blk);
            s.min[b] = 0f;
            // 16 bytes from qh on: lanes 0..3 hold the qh word (the rest is qs, unused here).
            ByteVector qh = ByteVector.fromMemorySegment(B16, w, blk + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector v = ByteVector.fromMemorySegment(B16, w, blk + 6, ByteOrder.LITTLE_ENDIAN);
            ByteVector h0 = zero.blend((byte) 16, qh.rearrange(QuantBits.QH_LOW).and(QuantBits.BIT).compare(VectorOperators.NE, 0));
            ByteVector h1 = zero.blend((byte) 16, qh.rearrange(QuantBits.QH_HIGH).and(QuantBits.BIT).compare(VectorOperators.NE, 0));
            v.and((byte) 0x0F).or(h0).sub((byte) 16).intoArray(q, 32 * b);
            v.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).or(h1).sub((byte) 16).intoArray(q, 32 * b + 16);
        }
    }
}
