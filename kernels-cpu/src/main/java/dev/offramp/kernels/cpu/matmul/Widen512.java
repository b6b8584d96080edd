package dev.offramp.kernels.cpu.matmul;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Byte and nibble widening shared by the 512-bit one-token kernels (Q4_0, Q4_K, Q5_K, Q6_K, INT4). The
 * methods are tiny and static, so C2 inlines them as long as the calling method stays inside its
 * inlining node budget; keep the callers' loops small for that reason, not these.
 */
final class Widen512 {
    private Widen512() {
    }

    /** The 16 bytes at {@code at}, zero-extended to the 16 int lanes of a 512-bit vector (one {@code vpmovzxbd}). */
    static IntVector bytes(MemorySegment w, long at) {
        return (IntVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
    }

    /*
     * Nibble n (0..15) to the float n - 8 without an int-to-float convert: 0x4B000000 | n is the float
     * 2^23 + n (n lands in the low mantissa bits), and (2^23 + n) - (2^23 + 8) is exact, so the values
     * are bit for bit those of a byte-subtract-and-convert decode.
     */
    static FloatVector lowNibbleMinus8(IntVector q) {
        return q.and(0x0F).or(0x4B000000).reinterpretAsFloats().sub(8388616f);
    }

    /** {@link #lowNibbleMinus8} for the high nibble of zero-extended bytes (the shift leaves exactly it). */
    static FloatVector highNibbleMinus8(IntVector q) {
        return q.lanewise(VectorOperators.LSHR, 4).or(0x4B000000).reinterpretAsFloats().sub(8388616f);
    }
}
