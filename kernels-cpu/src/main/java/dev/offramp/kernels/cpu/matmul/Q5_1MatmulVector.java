package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Vector Q5_1 kernel: 5-bit values (nibble + qh bit) times d plus m. */
public final class Q5_1MatmulVector extends QuantMatmulVector {
    public Q5_1MatmulVector(VectorSpecies<Float> species) {
        super(DType.Q5_1, species, new Q5_1MatmulScalar());
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
            long blk = base + 24L * b;
            s.scale[b] = QuantMatmulScalar.half(w, blk);
            s.min[b] = -QuantMatmulScalar.half(w, blk + 2);
            ByteVector qh = ByteVector.fromMemorySegment(B16, w, blk + 4, ByteOrder.LITTLE_ENDIAN);
            ByteVector v = ByteVector.fromMemorySegment(B16, w, blk + 8, ByteOrder.LITTLE_ENDIAN);
            ByteVector h0 = zero.blend((byte) 16, qh.rearrange(QuantBits.QH_LOW).and(QuantBits.BIT).compare(VectorOperators.NE, 0));
            ByteVector h1 = zero.blend((byte) 16, qh.rearrange(QuantBits.QH_HIGH).and(QuantBits.BIT).compare(VectorOperators.NE, 0));
            v.and((byte) 0x0F).or(h0).intoArray(q, 32 * b);
            v.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).or(h1).intoArray(q, 32 * b + 16);
        }
    }
}
