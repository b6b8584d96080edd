package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
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
    private final boolean vectorDecode;

    public Q6_KMatmulVector(VectorSpecies<Float> species) {
        super(DType.Q6_K, species, new Q6_KMatmulScalar());
        // A load must stay within one 16-value scale group.
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
        for (int b = 0, nb = cols / 256; b < nb; b++) {
            long blk = base + 210L * b;
            float d = QuantMatmulScalar.half(w, blk + 208);
            for (int h = 0; h < 2; h++) {
                long ql = blk + 64L * h;
                long qh = blk + 128 + 32L * h;
                long sc = blk + 192 + 8L * h;
                int o = 256 * b + 128 * h;
                for (int k = 0; k < 32; k += byteLanes) {
                    int is = k >>> 4;
                    ByteVector a = ByteVector.fromMemorySegment(bytes, w, ql + k, ByteOrder.LITTLE_ENDIAN);
                    ByteVector c = ByteVector.fromMemorySegment(bytes, w, ql + 32 + k, ByteOrder.LITTLE_ENDIAN);
                    ByteVector hb = ByteVector.fromMemorySegment(bytes, w, qh + k, ByteOrder.LITTLE_ENDIAN);
                    ByteVector q1 = a.and((byte) 0x0F).or(hb.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = c.and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 3)
                            .lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHR, 4)
                            .and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q4 = c.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHR, 6)
                            .and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    storeScaled(q1, FloatVector.broadcast(species, d * QuantMatmulScalar.i8(w, sc + is)), dst, o + k);
                    storeScaled(q2, FloatVector.broadcast(species, d * QuantMatmulScalar.i8(w, sc + is + 2)), dst, o + 32 + k);
                    storeScaled(q3, FloatVector.broadcast(species, d * QuantMatmulScalar.i8(w, sc + is + 4)), dst, o + 64 + k);
                    storeScaled(q4, FloatVector.broadcast(species, d * QuantMatmulScalar.i8(w, sc + is + 6)), dst, o + 96 + k);
                }
            }
        }
    }
}
