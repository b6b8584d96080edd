package dev.offramp.e2e;

/** Whether this machine runs the Q4_0/Q8_0/K-quant matmuls on int8 activations (llama.cpp's arithmetic). */
final class Int8Kernels {
    private Int8Kernels() {
    }

    /** The repacked int8 kernels exist for 256- and 512-bit vectors (AVX2, AVX-512). */
    static boolean active() {
        int bits = jdk.incubator.vector.ShortVector.SPECIES_PREFERRED.vectorBitSize();
        return bits == 256 || bits == 512;
    }
}
