package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Vector Q8_0 kernel: int8 lanes widened to float and scaled by the block's d. */
public final class Q8_0MatmulVector extends QuantMatmulVector {
    private final boolean vectorDecode;

    public Q8_0MatmulVector(VectorSpecies<Float> species) {
        super(DType.Q8_0, species, new Q8_0MatmulScalar());
        // A block has 32 quants; wider byte loads (species beyond 256-bit floats x 8) would straddle blocks.
        this.vectorDecode = 32 % qs.bytes().length() == 0;
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
            long blk = base + 34L * b;
            FloatVector d = FloatVector.broadcast(species, QuantMatmulScalar.half(w, blk));
            for (int k = 0; k < 32; k += byteLanes) {
                ByteVector q = ByteVector.fromMemorySegment(bytes, w, blk + 2 + k, ByteOrder.LITTLE_ENDIAN);
                storeScaled(q, d, dst, 32 * b + k);
            }
        }
    }
}
