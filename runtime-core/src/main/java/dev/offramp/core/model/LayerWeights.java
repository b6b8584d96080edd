package dev.offramp.core.model;

import dev.offramp.core.backend.Weight;

/**
 * One decoder block's weights as prepared by a backend. Bias fields are null where the model has
 * none (Qwen2 has q/k/v biases; Llama has none).
 */
public record LayerWeights(
        Weight attnNorm,
        Weight wq, Weight wk, Weight wv, Weight wo,
        Weight bq, Weight bk, Weight bv, Weight bo,
        Weight ffnNorm,
        Weight gate, Weight up, Weight down,
        Weight bGate, Weight bUp, Weight bDown) {
}
