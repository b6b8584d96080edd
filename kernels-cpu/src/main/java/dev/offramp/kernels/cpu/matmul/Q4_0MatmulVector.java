package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Vector Q4_0 kernel: low nibbles are values 0..15 of a block, high nibbles 16..31, both minus 8, times d. */
public final class Q4_0MatmulVector extends QuantMatmulVector {
    private final boolean vectorDecode;

    public Q4_0MatmulVector(VectorSpecies<Float> species) {
        super(DType.Q4_0, species, new Q4_0MatmulScalar());
        this.vectorDecode = 16 % qs.bytes().length() == 0;
    }

    @Override
    void decodeRow(MemorySegment w, long base, int cols, float[] dst) {
        if (!vectorDecode) {
            super.decodeRow(w, base, cols, dst);
            return;
        }
        VectorSpecies<Float> species = qs.floats();
        VectorSpecies<Byte> bytes = qs.bytes();
        int byteLanes = bytes.length();
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            long blk = base + 18L * b;
            FloatVector d = FloatVector.broadcast(species, QuantMatmulScalar.half(w, blk));
            for (int k = 0; k < 16; k += byteLanes) {
                ByteVector q = ByteVector.fromMemorySegment(bytes, w, blk + 2 + k, ByteOrder.LITTLE_ENDIAN);
                ByteVector lo = q.and((byte) 0x0F).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
                storeScaled(lo, d, dst, 32 * b + k);
                storeScaled(hi, d, dst, 32 * b + 16 + k);
            }
        }
    }
}
