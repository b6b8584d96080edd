package dev.offramp.kernels.cpu;

import dev.offramp.core.backend.Weight;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.kernels.cpu.matmul.MatmulKernel;

/**
 * A tensor prepared for the CPU backend: the mapped bytes themselves (no copy) plus the matmul kernel
 * for its type. Vectors (norm weights, biases) are also decoded once to F32, since they are tiny and
 * read on every token.
 */
final class CpuWeight implements Weight {
    private final Tensor source;
    /** Null when no kernel exists for the type; {@link CpuBackend#matmul} then names the tensor. */
    final MatmulKernel kernel;
    /** Decoded values for rank-0/1 tensors, else null. */
    final float[] vector;
    final int cols;

    CpuWeight(Tensor source, MatmulKernel kernel, float[] vector) {
        this.source = source;
        this.kernel = kernel;
        this.vector = vector;
        this.cols = Math.toIntExact(source.cols());
    }

    @Override
    public Tensor source() {
        return source;
    }

    @Override
    public String toString() {
        return "CpuWeight[" + source + (kernel == null ? "" : ", " + kernel.getClass().getSimpleName()) + "]";
    }
}
