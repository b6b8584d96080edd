package dev.offramp.core.model;

/** How RoPE frequencies are adjusted for contexts beyond the training length. A closed set. */
public sealed interface RopeScaling {

    /** Plain RoPE: {@code theta_i = base^(-2i/d)}. */
    record None() implements RopeScaling {
    }

    /** Linear position interpolation: positions divided by {@code factor}. */
    record Linear(float factor) implements RopeScaling {
    }

    /**
     * Llama 3.1/3.2 frequency scaling: wavelengths longer than {@code originalContext / lowFreqFactor}
     * are divided by {@code factor}, those shorter than {@code originalContext / highFreqFactor} kept,
     * and the band between smoothly interpolated. GGUF files carry the result as a {@code rope_freqs}
     * tensor of per-pair divisors instead; {@link dev.offramp.core.model.ModelConfig} accepts either.
     */
    record Llama3(float factor, float lowFreqFactor, float highFreqFactor, int originalContext) implements RopeScaling {
    }

    RopeScaling NONE = new None();
}
