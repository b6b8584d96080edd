package dev.offramp.kernels.cpu;

import dev.offramp.core.tensor.Tensor;
import dev.offramp.kernels.cpu.matmul.MatmulKernel;
import dev.offramp.kernels.cpu.matmul.MatmulKernels;
import dev.offramp.kernels.cpu.ops.CpuOps;
import dev.offramp.kernels.cpu.ops.ScalarOps;

/** Plain scalar kernels: no class here touches the Vector API. */
final class ScalarKernelSet implements KernelSet {
    private final CpuOps ops = new ScalarOps();

    @Override
    public CpuOps ops() {
        return ops;
    }

    @Override
    public MatmulKernel matmul(Tensor tensor) {
        return MatmulKernels.scalar(tensor.type()).orElse(null);
    }

    @Override
    public boolean vectorized() {
        return false;
    }

    @Override
    public String describe() {
        return "scalar kernels";
    }
}
