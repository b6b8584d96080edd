package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Fused dequantize-dot for one weight storage type: weights stay in their stored type (nothing
 * dequantizes a whole tensor), activations are float32 on the heap (a kernel that multiplies in integers
 * quantizes them first, see {@link #int8Activations()}).
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

    /**
     * The rule by which this kernel quantizes activations to int8 ({@link Int8Activations}), or null
     * when it reads float activations. A caller that splits one call's rows over threads quantizes once
     * ({@link #quantize}) and calls {@link #matmul(MemorySegment, int, Int8Activations, int, float[], int, int, int)};
     * the float {@code matmul} quantizes on each call and gives the same bits.
     */
    default Int8Scheme int8Activations() {
        return null;
    }

    /**
     * Quantizes {@code n} rows of {@code x} into {@code a} for this kernel's int8 {@code matmul}: the
     * bits of {@link Int8Activations#quantize}, which this default calls; a kernel may use a faster
     * quantizer that gives the same bits.
     */
    default void quantize(Int8Activations a, float[] x, int xStride, int n, int cols) {
        a.quantize(x, xStride, n, cols);
    }

    /**
     * {@link #matmul} with the activations already quantized ({@code x} holds at least {@code n} rows of
     * {@code cols}); only for kernels whose {@link #int8Activations()} is not null.
     */
    default void matmul(MemorySegment w, int cols, Int8Activations x, int n,
                        float[] out, int outStride, int rowStart, int rowEnd) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " reads float activations");
    }

    /**
     * Rows this kernel computes together: a row split at multiples of it does no work twice (any split
     * still gives the same bits).
     */
    default int rowGroup() {
        return 1;
    }
}
