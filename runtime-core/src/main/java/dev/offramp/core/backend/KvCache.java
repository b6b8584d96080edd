package dev.offramp.core.backend;

import dev.offramp.core.tensor.DType;

/**
 * Keys and values of every layer at every position, in a fixed buffer of {@code capacity} positions
 * allocated once by a {@link Backend}. Position {@code p} of layer {@code l} is written by
 * {@link Backend#kvWrite} and read by {@link Backend#attention}. Which positions are valid is the
 * caller's book-keeping (a session's length): rolling back a rejected draft or an edited chat is
 * setting that length, never a copy.
 */
public interface KvCache extends AutoCloseable {
    int layers();

    int capacity();

    int kvDim();

    /** F32 or F16. */
    DType dtype();

    /** Bytes this cache holds. */
    long byteSize();

    @Override
    default void close() {
    }
}
