package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Seeded random quantized matrices for the kernel tests: every quant byte random (so every bit pattern
 * of nibbles, high bits and packed scales occurs), every f16 scale field overwritten with a modest
 * finite value (random bits there would be NaN/inf or overflow and test nothing useful).
 */
final class QuantTestData {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private QuantTestData() {
    }

    static MemorySegment matrix(DType type, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        long blocks = (long) rows * cols / type.blockSize();
        byte[] data = new byte[(int) (blocks * type.blockBytes())];
        rnd.nextBytes(data);
        MemorySegment s = MemorySegment.ofArray(data);
        for (long b = 0; b < blocks; b++) {
            long blk = b * type.blockBytes();
            for (int off : halfOffsets(type)) {
                float v = (rnd.nextFloat() * 2f - 1f) * 0.05f;
                s.set(HALF, blk + off, Float.floatToFloat16(v));
            }
        }
        return s;
    }

    /** Byte offsets of the f16 fields inside one block. */
    static int[] halfOffsets(DType type) {
        return switch (type) {
            case Q4_0, Q5_0, Q8_0 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    static float[] activations(int n, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }
}
