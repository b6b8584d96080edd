package dev.offramp.core.model;

/**
 * Which elements of a head vector RoPE rotates together.
 *
 * <p>{@code NORMAL} (ggml's default, "interleaved"): pairs (0,1), (2,3), ... — a {@code llama}-arch
 * GGUF stores q/k rows permuted so that this matches the original model. {@code NEOX}
 * ("rotate half", HF convention): pairs (i, i + d/2) — HF safetensors and {@code qwen2} GGUFs.
 * The loader picks the style per source instead of permuting rows, so loading copies nothing.
 */
public enum RopeStyle {
    NORMAL,
    NEOX
}
