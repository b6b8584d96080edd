package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.util.Optional;

/**
 * The scalar quantized kernels by weight type. Touches no Vector API class, so it is safe to call when
 * {@code jdk.incubator.vector} is absent.
 */
public final class QuantMatmulScalars {
    private QuantMatmulScalars() {
    }

    public static Optional<MatmulKernel> forType(DType type) {
        return Optional.ofNullable(switch (type) {
            case Q4_0 -> new Q4_0MatmulScalar();
            case Q4_1 -> new Q4_1MatmulScalar();
            case Q5_0 -> new Q5_0MatmulScalar();
            case Q5_1 -> new Q5_1MatmulScalar();
            case Q8_0 -> new Q8_0MatmulScalar();
            case Q2_K -> new Q2_KMatmulScalar();
            case Q3_K -> new Q3_KMatmulScalar();
            case Q4_K -> new Q4_KMatmulScalar();
            case Q5_K -> new Q5_KMatmulScalar();
            case Q6_K -> new Q6_KMatmulScalar();
            default -> null;
        });
    }
}
