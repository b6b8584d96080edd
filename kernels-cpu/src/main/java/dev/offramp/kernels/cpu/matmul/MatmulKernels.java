package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.util.Optional;

/**
 * Registry of the scalar matmul kernels, one per weight type: the reference twins, and what the CPU
 * backend runs when {@code jdk.incubator.vector} is absent. This class must never mention a Vector
 * API type (it is loaded in scalar mode); the vector registry is {@link VectorMatmulKernels}.
 * F32/F16/BF16 are here; the quantized ggml types come from {@link QuantMatmulScalars}.
 */
public final class MatmulKernels {
    private MatmulKernels() {
    }

    /** The scalar kernel for {@code type}, or empty when the CPU backend has none yet. */
    public static Optional<MatmulKernel> scalar(DType type) {
        MatmulKernel k = switch (type) {
            case F32 -> new F32MatmulScalar();
            case F16 -> new F16MatmulScalar();
            case BF16 -> new BF16MatmulScalar();
            case F8_E4M3 -> new F8_E4M3MatmulScalar();
            // Loader-built row layouts with their scales in front of each row (DType javadoc).
            case F8_E4M3_G128 -> new F8_E4M3G128MatmulScalar();
            case I4_G128 -> new Int4MatmulScalar();
            default -> null;
        };
        return k != null ? Optional.of(k) : QuantMatmulScalars.forType(type);
    }
}
