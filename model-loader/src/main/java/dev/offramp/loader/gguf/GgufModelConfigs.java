package dev.offramp.loader.gguf;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.Tensor;

import java.util.Locale;
import java.util.Set;

/**
 * GGUF metadata ({@code <arch>.*} keys as llama.cpp's converter writes them) to the one
 * {@link ModelConfig}.
 *
 * <pre>{@code
 * ModelConfig cfg = GgufModelConfigs.from(gguf);   // throws GgufFormatException naming file and key
 * }</pre>
 */
public final class GgufModelConfigs {

    /** Architectures whose blocks are the Llama decoder (RMSNorm, RoPE, GQA attention, SwiGLU). */
    public static final Set<String> SUPPORTED = Set.of("llama", "mistral", "qwen2");

    private GgufModelConfigs() {
    }

    public static ModelConfig from(GgufFile gguf) throws GgufFormatException {
        GgufMetadata md = gguf.metadata();
        String file = gguf.name();
        try {
            String arch = md.getString("general.architecture");
            if (!SUPPORTED.contains(arch)) {
                throw new GgufFormatException(file, "metadata 'general.architecture'", "architecture '" + arch
                        + "' is not supported (supported: " + String.join(", ", SUPPORTED.stream().sorted().toList()) + ")");
            }
            String p = arch + ".";
            int dim = md.getInt(p + "embedding_length");
            int layers = md.getInt(p + "block_count");
            int heads = md.getInt(p + "attention.head_count");
            int kvHeads = md.getInt(p + "attention.head_count_kv", heads);
            if (heads <= 0) {
                throw new GgufFormatException(file, "metadata '" + p + "attention.head_count'", "must be positive, is " + heads);
            }
            int headDim = md.getInt(p + "attention.key_length", dim / heads);
            int valueDim = md.getInt(p + "attention.value_length", headDim);
            if (valueDim != headDim) {
                throw new GgufFormatException(file, "metadata '" + p + "attention.value_length'", "value head size "
                        + valueDim + " differs from key head size " + headDim + "; not supported");
            }
            int ffn = md.getInt(p + "feed_forward_length");
            int ctx = md.getInt(p + "context_length");
            float eps = md.getFloat(p + "attention.layer_norm_rms_epsilon");
            float theta = md.getFloat(p + "rope.freq_base", 10000f);
            int ropeDim = md.getInt(p + "rope.dimension_count", headDim);
            // llama.cpp's llama_model_rope_type: LLAMA-family archs rotate adjacent pairs (their
            // converter permuted q/k rows for that); QWEN2 keeps HF's rotate-half order.
            RopeStyle style = arch.equals("qwen2") ? RopeStyle.NEOX : RopeStyle.NORMAL;
            RopeScaling scaling = scaling(file, md, p, ctx);

            if (!gguf.hasTensor("token_embd.weight")) {
                throw new GgufFormatException(file, "tensor 'token_embd.weight'", "missing: no embedding table");
            }
            Tensor emb = gguf.tensor("token_embd.weight");
            if (emb.rank() != 2 || emb.dim(1) != dim) {
                throw new GgufFormatException(file, "tensor 'token_embd.weight'", "shape " + emb
                        + " does not match embedding_length " + dim);
            }
            long vocab = emb.dim(0);
            if (vocab > Integer.MAX_VALUE) {
                throw new GgufFormatException(file, "tensor 'token_embd.weight'", "vocabulary of " + vocab + " rows");
            }
            boolean tied = !gguf.hasTensor("output.weight");
            boolean attnBias = gguf.hasTensor("blk.0.attn_q.bias") || gguf.hasTensor("blk.0.attn_k.bias")
                    || gguf.hasTensor("blk.0.attn_v.bias");
            boolean outBias = gguf.hasTensor("blk.0.attn_output.bias");
            boolean mlpBias = gguf.hasTensor("blk.0.ffn_up.bias") || gguf.hasTensor("blk.0.ffn_gate.bias")
                    || gguf.hasTensor("blk.0.ffn_down.bias");
            try {
                return new ModelConfig(arch, (int) vocab, dim, layers, heads, kvHeads, headDim, ffn, ctx, eps, theta,
                        ropeDim, style, scaling, tied, attnBias, outBias, mlpBias);
            } catch (IllegalArgumentException e) {
                throw new GgufFormatException(file, "metadata '" + p + "*'", e.getMessage(), e);
            }
        } catch (GgufMetadataException e) {
            throw new GgufFormatException(file, "metadata '" + e.key() + "'", e.getMessage().substring(
                    e.getMessage().indexOf(": ") + 2), e);
        }
    }

    private static RopeScaling scaling(String file, GgufMetadata md, String p, int ctx) throws GgufFormatException {
        String type = md.getString(p + "rope.scaling.type", null);
        float factor = md.getFloat(p + "rope.scaling.factor", 0f);
        if (type == null) {
            // older converters wrote only a linear factor
            float linear = md.getFloat(p + "rope.scale_linear", 0f);
            return linear > 0 && linear != 1f ? new RopeScaling.Linear(linear) : RopeScaling.NONE;
        }
        return switch (type.toLowerCase(Locale.ROOT)) {
            case "none" -> RopeScaling.NONE;
            case "linear" -> factor > 0 && factor != 1f ? new RopeScaling.Linear(factor) : RopeScaling.NONE;
            // Llama 3 scaling reaches GGUF baked into a rope_freqs tensor, not as a scaling type.
            default -> throw new GgufFormatException(file, "metadata '" + p + "rope.scaling.type'", "RoPE scaling '"
                    + type + "' is not supported (supported: none, linear; Llama 3 scaling via rope_freqs.weight)");
        };
    }
}
