package dev.offramp.core.backend;

/**
 * A float32 matrix of activations {@code [rows, cols]} owned by a {@link Backend} (host memory on the
 * CPU, device memory on a GPU). Row {@code t} holds token {@code t} of a batch. Model code never reads
 * the values directly: it asks the backend ({@link Backend#read}) for the rows it needs, usually only
 * the logits of the last position.
 */
public interface Activations extends AutoCloseable {
    int rows();

    int cols();

    /** Releases device memory; a no-op for heap buffers. */
    @Override
    default void close() {
    }
}
