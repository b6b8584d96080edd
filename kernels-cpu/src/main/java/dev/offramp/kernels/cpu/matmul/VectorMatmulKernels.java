package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.VectorSpecies;

import java.util.Optional;

/**
 * Registry of the Vector API matmul kernels, one per weight type, for a given float species. Only
 * touched after the CPU backend has checked that {@code jdk.incubator.vector} is loaded. The backend
 * falls back to {@link MatmulKernels#scalar} for a type (or width) that has no vector kernel.
 * F32/F16/BF16 are here; the quantized ggml types come from {@link QuantMatmulVectors}.
 */
public final class VectorMatmulKernels {
    private VectorMatmulKernels() {
    }

    /** The vector kernel for {@code type} at {@code species}' width, or empty when there is none. */
    public static Optional<MatmulKernel> forType(DType type, VectorSpecies<Float> species) {
        int bits = species.vectorBitSize();
        MatmulKernel k = switch (type) {
            case F32 -> F32MatmulVector.of(species);
            case F16 -> F16MatmulWiden.of(species);
            // BF16 widens in registers and needs a short species of half the width: none below 64 bits.
            case BF16 -> bits >= 128 && bits <= 512 ? BF16MatmulVector.of(species) : null;
            case F8_E4M3 -> bits >= 128 && bits <= 512 ? new F8_E4M3MatmulVector(species) : null;
            case F8_E4M3_G128 -> bits >= 128 && bits <= 512 ? new F8_E4M3G128MatmulVector(species) : null;
            case I4_G128 -> bits >= 128 && bits <= 512 ? new Int4MatmulVector(species) : null;
            default -> null;
        };
        return k != null ? Optional.of(k) : QuantMatmulVectors.forType(type, species);
    }
}
