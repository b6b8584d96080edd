package dev.offramp.core.model;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Backend;

/**
 * Sees the residual stream after each layer of a forward pass (exit gates, saved hidden states
 * for speculative verification, calibration). Called on the forward pass's thread.
 */
@FunctionalInterface
public interface LayerObserver {

    /**
     * Called after {@code layer} for one chunk of the batch.
     *
     * @param layer      the layer that just ran
     * @param hidden     its output; rows {@code 0..n) } hold batch rows {@code batchStart..batchStart+n}.
     *                   Valid only during the call: copy what you keep ({@link Backend#copyRows} or
     *                   {@link Backend#read}); do not modify it
     * @param batchStart index in the whole batch of this chunk's first row
     * @param n          rows in this chunk
     */
    void afterLayer(int layer, Activations hidden, int batchStart, int n);

    LayerObserver NONE = (layer, hidden, batchStart, n) -> { };
}
