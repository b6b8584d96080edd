package dev.offramp.kernels.cpu;

/**
 * Which SIMD width the CPU kernels use: the machine's preferred Vector API species, a forced width
 * (tests force 256 and 128 bits to cover AVX2 and NEON users on an AVX-512 machine), or no Vector API
 * at all. A plain record rather than a {@code VectorSpecies} so that naming it never loads the
 * incubator module's classes (which may be absent).
 *
 * <pre>{@code
 * Backend b = new CpuBackend(2, VectorWidth.bits(256));
 * }</pre>
 *
 * @param bits 0 for the preferred species, -1 for scalar kernels, else 64, 128, 256, 512 (or any
 *             width the Vector API accepts)
 */
public record VectorWidth(int bits) {
    public static final VectorWidth PREFERRED = new VectorWidth(0);
    public static final VectorWidth SCALAR = new VectorWidth(-1);

    public VectorWidth {
        if (bits < -1 || (bits > 0 && (bits < 64 || Integer.bitCount(bits) != 1))) {
            throw new IllegalArgumentException("vector width must be 0 (preferred), -1 (scalar) or a power of two >= 64, got " + bits);
        }
    }

    public static VectorWidth bits(int bits) {
        return new VectorWidth(bits);
    }

    public boolean isScalar() {
        return bits == -1;
    }

    @Override
    public String toString() {
        return bits == 0 ? "preferred" : bits == -1 ? "scalar" : bits + "-bit";
    }
}
