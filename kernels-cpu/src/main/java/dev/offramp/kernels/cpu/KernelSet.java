package dev.offramp.kernels.cpu;

import dev.offramp.core.tensor.DType;
import dev.offramp.kernels.cpu.matmul.MatmulKernel;
import dev.offramp.kernels.cpu.ops.CpuOps;

/**
 * The kernels one backend runs: either all scalar ({@link ScalarKernelSet}) or Vector API at one
 * width ({@link VectorKernelSet}, whose class is loaded only when the incubator module is present).
 */
interface KernelSet {
    CpuOps ops();

    /** The matmul kernel for {@code type}, or null when there is none. */
    MatmulKernel matmul(DType type);

    String describe();

    boolean vectorized();
}
