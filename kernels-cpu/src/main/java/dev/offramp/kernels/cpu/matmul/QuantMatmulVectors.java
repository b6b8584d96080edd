package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Optional;

/**
 * The vector quantized kernels by weight type. Loads Vector API classes: call it only when
 * {@code jdk.incubator.vector} is present.
 *
 * <pre>{@code
 * MatmulKernel k = QuantMatmulVectors.forType(DType.Q4_K, 0).orElseThrow();   // preferred species
 * }</pre>
 */
public final class QuantMatmulVectors {
    private QuantMatmulVectors() {
    }

    /** @param bits float vector width in bits, or 0 for {@link FloatVector#SPECIES_PREFERRED} */
    public static Optional<MatmulKernel> forType(DType type, int bits) {
        VectorSpecies<Float> species = bits == 0 ? FloatVector.SPECIES_PREFERRED
                : VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        return forType(type, species);
    }

    public static Optional<MatmulKernel> forType(DType type, VectorSpecies<Float> species) {
        return Optional.ofNullable(switch (type) {
            case Q4_0 -> new Q4_0MatmulVector(species);
            case Q8_0 -> new Q8_0MatmulVector(species);
            case Q4_1 -> new Q4_1MatmulVector(species);
            case Q5_0 -> new Q5_0MatmulVector(species);
            case Q5_1 -> new Q5_1MatmulVector(species);
            case Q2_K -> new Q2_KMatmulVector(species);
            case Q3_K -> new Q3_KMatmulVector(species);
            case Q4_K -> new Q4_KMatmulVector(species);
            case Q5_K -> new Q5_KMatmulVector(species);
            case Q6_K -> new Q6_KMatmulVector(species);
            default -> null;
        });
    }
}
