package dev.offramp.kernels.cpu;

import dev.offramp.core.tensor.Tensor;
import dev.offramp.kernels.cpu.matmul.MatmulKernel;
import dev.offramp.kernels.cpu.ops.CpuOps;

/**
 * The kernels one backend runs: either all scalar ({@link ScalarKernelSet}) or Vector API at one
 * width ({@link VectorKernelSet}, whose class is loaded only when the incubator module is present).
 */
interface KernelSet {
    CpuOps ops();

    /** The matmul kernel for this tensor's type (and, where it pays, its contents), or null when there is none. */
    MatmulKernel matmul(Tensor tensor);

    String describe();

    boolean vectorized();
}
