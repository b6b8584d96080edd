package dev.offramp.kernels.cpu;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.kernels.cpu.matmul.F16MatmulWiden;
import dev.offramp.kernels.cpu.matmul.MatmulKernel;
import dev.offramp.kernels.cpu.matmul.MatmulKernels;
import dev.offramp.kernels.cpu.matmul.Q4_0Int8MatmulVector;
import dev.offramp.kernels.cpu.matmul.Q4_KInt8MatmulVector;
import dev.offramp.kernels.cpu.matmul.Q6_KInt8MatmulVector;
import dev.offramp.kernels.cpu.matmul.Q4_KMatmulVector;
import dev.offramp.kernels.cpu.matmul.Q5_KMatmulVector;
import dev.offramp.kernels.cpu.matmul.Q6_KMatmulVector;
import dev.offramp.kernels.cpu.matmul.Q8_0Int8MatmulVector;
import dev.offramp.kernels.cpu.matmul.VectorMatmulKernels;
import dev.offramp.kernels.cpu.ops.CpuOps;
import dev.offramp.kernels.cpu.ops.VectorOps;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Vector API kernels at one float species. Loaded only after {@link VectorAvailability#moduleLoaded()}. */
final class VectorKernelSet implements KernelSet {
    private final VectorSpecies<Float> species;
    private final CpuOps ops;

    /**
     * Returns the interface type so that callers' bytecode never names this class outside the call
     * itself: the verifier then has no reason to load it in scalar mode.
     */
    static KernelSet create(int bits) {
        return new VectorKernelSet(bits);
    }

    private VectorKernelSet(int bits) {
        this.species = bits == 0 ? FloatVector.SPECIES_PREFERRED
                : VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        this.ops = VectorOps.of(species);
    }

    @Override
    public CpuOps ops() {
        return ops;
    }

    @Override
    public MatmulKernel matmul(Tensor tensor) {
        DType type = tensor.type();
        int bits = species.vectorBitSize();
        // One read of an F16 tensor at prepare lets every decode step widen it in registers (same bits).
        if (type == DType.F16 && bits >= 128 && bits <= 512 && F16MatmulWiden.allFinite(tensor.data())) {
            return F16MatmulWiden.of(species, true);
        }
        if (tensor.cols() <= Integer.MAX_VALUE) {
            int cols = (int) tensor.cols();
            // int8 activations with a row per 16-bit lane, on the machine's own vectors (their layout is
            // built for that width): ~2x the float kernels' weights/s at 512 bits (docs/benchmarks.md,
            // session 9), and at 256 bits (session 10). Null where the type or machine does not fit.
            if (bits >= 256 && bits == FloatVector.SPECIES_PREFERRED.vectorBitSize()) {
                MatmulKernel k = switch (type) {
                    case Q4_0 -> Q4_0Int8MatmulVector.forWeight(tensor.data(), tensor.rows(), cols);
                    case Q4_K -> Q4_KInt8MatmulVector.forWeight(tensor.data(), tensor.rows(), cols);
                    case Q6_K -> Q6_KInt8MatmulVector.forWeight(tensor.data(), tensor.rows(), cols);
                    case Q8_0 -> Q8_0Int8MatmulVector.forWeight(tensor.data(), tensor.rows(), cols);
                    default -> null;
                };
                if (k != null) {
                    return k;
                }
            }
            // K-quants on float activations: the scales unpacked once into a side table, read by the
            // one-token path.
            if (bits == 512) {
                switch (type) {
                    case Q4_K -> {
                        return Q4_KMatmulVector.forWeight(species, tensor.data(), tensor.rows(), cols);
                    }
                    case Q5_K -> {
                        return Q5_KMatmulVector.forWeight(species, tensor.data(), tensor.rows(), cols);
                    }
                    case Q6_K -> {
                        return Q6_KMatmulVector.forWeight(species, tensor.data(), tensor.rows(), cols);
                    }
                    default -> {
                    }
                }
            }
        }
        return VectorMatmulKernels.forType(type, species)
                .or(() -> MatmulKernels.scalar(type))
                .orElse(null);
    }

    @Override
    public boolean vectorized() {
        return true;
    }

    @Override
    public String describe() {
        return "Vector API " + species.vectorBitSize() + "-bit (" + species.length() + " float lanes)";
    }
}
