package dev.offramp.core.model;

/**
 * How deep one forward pass goes, and who sees the hidden states on the way: the hook the exit
 * machinery (early exit, self-speculative drafting) builds on. A full pass is
 * {@link #full()}; {@code stopAfter(l)} runs layers {@code 0..l} and applies the shared head
 * (final norm + LM head) to layer {@code l}'s output.
 *
 * <pre>{@code
 * model.forward(state, tokens, positions, n, ExitPlan.stopAfter(5), new int[] {n - 1}, logits);
 * }</pre>
 *
 * @param lastLayer the last layer to run (inclusive), or {@link #ALL_LAYERS} for every layer
 * @param observer  sees each layer's output (may be {@link LayerObserver#NONE})
 */
public record ExitPlan(int lastLayer, LayerObserver observer) {

    /** Marker for "run every layer". */
    public static final int ALL_LAYERS = Integer.MAX_VALUE;

    private static final ExitPlan FULL = new ExitPlan(ALL_LAYERS, LayerObserver.NONE);

    public ExitPlan {
        if (lastLayer < 0) {
            throw new IllegalArgumentException("lastLayer must be >= 0, got " + lastLayer);
        }
        if (observer == null) {
            observer = LayerObserver.NONE;
        }
    }

    /** Every layer, no observer. */
    public static ExitPlan full() {
        return FULL;
    }

    /** Layers {@code 0..layer} inclusive, then the shared head. */
    public static ExitPlan stopAfter(int layer) {
        return new ExitPlan(layer, LayerObserver.NONE);
    }

    /** The same depth with {@code o} watching every layer. */
    public ExitPlan observedBy(LayerObserver o) {
        return new ExitPlan(lastLayer, o);
    }

    /** The last layer that runs in a model of {@code layers} layers. */
    public int lastLayerOf(int layers) {
        return Math.min(lastLayer, layers - 1);
    }
}
