package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Vector Q4_1 kernel: nibble * d + m per block of 32 (m kept as min = -m, see {@link QuantMatmulVector}). */
public final class Q4_1MatmulVector extends QuantMatmulVector {
    public Q4_1MatmulVector(VectorSpecies<Float> species) {
        super(DType.Q4_1, species, new Q4_1MatmulScalar());
    }

    @Override
    int groupSize() {
        return 32;
    }

    @Override
    void decodeQuants(MemorySegment w, long base, int cols, Scratch s) {
        byte[] q = s.q;
        for (int b = 0, nb = cols >>> 5; b < nb; b++) {
            long blk = base + 20L * b;
            s.scale[b] = QuantMatmulScalar.half(w, blk);
            s.min[b] = -QuantMatmulScalar.half(w, blk + 2);
            ByteVector v = ByteVector.fromMemorySegment(B16, w, blk + 4, ByteOrder.LITTLE_ENDIAN);
            v.and((byte) 0x0F).intoArray(q, 32 * b);
            v.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).intoArray(q, 32 * b + 16);
        }
    }
}
