package dev.offramp.loader.quantize;

import dev.offramp.core.tensor.DType;

/**
 * The fate of one tensor in a quantization: its type before and after and why.
 *
 * @param reason a short note when the type is not simply the requested one (e.g. "rows of 172 fit no Q4_K block")
 */
public record TensorPlan(String name, long[] shape, DType from, DType to, String reason) {

    public TensorPlan {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Bytes the tensor will take in the output. */
    public long outputBytes() {
        return to.bytesFor(elements());
    }

    public boolean converts() {
        return from != to;
    }
}
