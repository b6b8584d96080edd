package dev.offramp.kernels.cpu.matmul;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorShuffle;

/** Constant byte vectors for spreading the packed 5th bits of Q5_0/Q5_1 over 16 lanes. */
final class QuantBits {
    private QuantBits() {
    }

    /** Lane j reads byte j / 8 of the qh word (values 0..15). */
    static final VectorShuffle<Byte> QH_LOW = VectorShuffle.fromValues(QuantMatmulVector.B16,
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    /** Lane j reads byte 2 + j / 8 of the qh word (values 16..31). */
    static final VectorShuffle<Byte> QH_HIGH = VectorShuffle.fromValues(QuantMatmulVector.B16,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    /** Lane j keeps bit j % 8. */
    static final ByteVector BIT = ByteVector.fromArray(QuantMatmulVector.B16,
            new byte[] {1, 2, 4, 8, 16, 32, 64, (byte) 128, 1, 2, 4, 8, 16, 32, 64, (byte) 128}, 0);
}
