package dev.offramp.core.backend;

import dev.offramp.core.tensor.Tensor;

/**
 * A weight tensor as prepared by one backend: on the CPU a typed view of the mapped file (perhaps
 * repacked for its kernels), on a GPU an uploaded copy. Made once per tensor by
 * {@link Backend#prepare(Tensor)} when a model is bound to a backend.
 */
public interface Weight {
    /** The tensor this weight was prepared from (its name, type and shape). */
    Tensor source();

    default long rows() {
        return source().rows();
    }

    default long cols() {
        return source().cols();
    }
}
