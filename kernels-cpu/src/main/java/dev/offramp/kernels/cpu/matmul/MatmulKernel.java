package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Fused dequantize-dot for one weight storage type: weights stay in their stored type (nothing
 * dequantizes a whole tensor), activations are float32 on the heap.
 *
 * <p>Row {@code r} of the weight matrix starts at byte {@code r * type().bytesFor(cols)} of
 * {@code w}. For every token {@code t < n} and row {@code rowStart <= r < rowEnd}:
 * <pre>{@code out[t * outStride + r] = sum_c W[r][c] * x[t * xStride + c]}</pre>
 *
 * <p>Batch invariance: the accumulation order of one {@code (t, r)} must not depend on {@code n},
 * on {@code rowStart/rowEnd} (the thread split), or on the other tokens, so that prefill and
 * one-token decode agree bit for bit. Each type has a vector implementation and a plain scalar twin
 * ({@link #scalar()}) that differential tests compare it with.
 */
public interface MatmulKernel {

    DType type();

    void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                float[] out, int outStride, int rowStart, int rowEnd);

    /** The plain scalar reference of this kernel (itself, for a scalar kernel). */
    MatmulKernel scalar();
}
