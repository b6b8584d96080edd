package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector Q4_K kernel: per pair of 32-value sub-blocks, 32 bytes whose low nibbles are the first
 * sub-block and high nibbles the second; value = (d*scale) * q - (dmin*min), as ggml rounds it.
 */
public final class Q4_KMatmulVector extends QuantMatmulVector {
    private final boolean vectorDecode;

    public Q4_KMatmulVector(VectorSpecies<Float> species) {
        super(DType.Q4_K, species, new Q4_KMatmulScalar());
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
        for (int b = 0, nb = cols / 256; b < nb; b++) {
            long blk = base + 144L * b;
            float d = QuantMatmulScalar.half(w, blk);
            float dmin = QuantMatmulScalar.half(w, blk + 2);
            for (int p = 0; p < 4; p++) {
                FloatVector d1 = FloatVector.broadcast(species, d * Q4_KMatmulScalar.kScale(w, blk + 4, 2 * p));
                FloatVector m1 = FloatVector.broadcast(species, dmin * Q4_KMatmulScalar.kMin(w, blk + 4, 2 * p));
                FloatVector d2 = FloatVector.broadcast(species, d * Q4_KMatmulScalar.kScale(w, blk + 4, 2 * p + 1));
                FloatVector m2 = FloatVector.broadcast(species, dmin * Q4_KMatmulScalar.kMin(w, blk + 4, 2 * p + 1));
                int o = 256 * b + 64 * p;
                for (int k = 0; k < 32; k += byteLanes) {
                    ByteVector q = ByteVector.fromMemorySegment(bytes, w, blk + 16 + 32L * p + k, ByteOrder.LITTLE_ENDIAN);
                    storeScaledMinus(q.and((byte) 0x0F), d1, m1, dst, o + k);
                    storeScaledMinus(q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F), d2, m2, dst, o + 32 + k);
                }
            }
        }
    }
}
