package dev.offramp.loader.hf;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one mapping between Hugging Face Llama-family tensor names and GGUF-convention names, used in
 * both directions (loading an HF folder; {@code convert} writing one).
 *
 * <pre>{@code
 * HfTensorNames.toGguf("model.layers.3.self_attn.o_proj.weight");   // Optional[blk.3.attn_output.weight]
 * HfTensorNames.toHf("ffn_norm.weight");                            // Optional.empty() (no block index)
 * HfTensorNames.toHf("blk.0.ffn_norm.weight");                      // Optional[model.layers.0.post_attention_layernorm.weight]
 * }</pre>
 */
public final class HfTensorNames {

    private HfTensorNames() {
    }

    /** An HF module path and its GGUF counterpart; {@code N} stands for the block index. */
    private record Pair(String hf, String gguf) {
    }

    private static final List<Pair> GLOBAL = List.of(
            new Pair("model.embed_tokens", "token_embd"),
            new Pair("model.norm", "output_norm"),
            new Pair("lm_head", "output"));

    private static final List<Pair> BLOCK = List.of(
            new Pair("self_attn.q_proj", "attn_q"),
            new Pair("self_attn.k_proj", "attn_k"),
            new Pair("self_attn.v_proj", "attn_v"),
            new Pair("self_attn.o_proj", "attn_output"),
            new Pair("input_layernorm", "attn_norm"),
            new Pair("post_attention_layernorm", "ffn_norm"),
            new Pair("mlp.gate_proj", "ffn_gate"),
            new Pair("mlp.up_proj", "ffn_up"),
            new Pair("mlp.down_proj", "ffn_down"));

    /**
     * Parameter suffixes carried over unchanged. {@code weight_scale}/{@code weight_scale_inv} are the
     * per-row or per-block scales of HF FP8 checkpoints and {@code input_scale} their static
     * activation scales, kept next to their weight.
     */
    private static final List<String> SUFFIXES = List.of("weight", "bias", "weight_scale", "weight_scale_inv",
            "input_scale");

    private static final Pattern HF_BLOCK = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.([a-z_]+)");
    private static final Pattern GGUF_BLOCK = Pattern.compile("blk\\.(\\d+)\\.([a-z_]+)\\.([a-z_]+)");
    private static final Pattern GLOBAL_NAME = Pattern.compile("(.+)\\.([a-z_]+)");

    /**
     * Whether an HF tensor carries nothing a forward pass needs: {@code rotary_emb.inv_freq} buffers
     * saved by old transformers versions are recomputed from {@code rope_theta}.
     */
    public static boolean isIgnorable(String hfName) {
        return hfName.endsWith(".rotary_emb.inv_freq");
    }

    /** The GGUF-convention name of an HF tensor, or empty if this mapping does not know it. */
    public static Optional<String> toGguf(String hfName) {
        Matcher m = HF_BLOCK.matcher(hfName);
        if (m.matches() && SUFFIXES.contains(m.group(3))) {
            for (Pair p : BLOCK) {
                if (p.hf.equals(m.group(2))) {
                    return Optional.of("blk." + Integer.parseInt(m.group(1)) + "." + p.gguf + "." + m.group(3));
                }
            }
            return Optional.empty();
        }
        return global(hfName, true);
    }

    /** The HF name of a GGUF-convention tensor, or empty if this mapping does not know it. */
    public static Optional<String> toHf(String ggufName) {
        Matcher m = GGUF_BLOCK.matcher(ggufName);
        if (m.matches() && SUFFIXES.contains(m.group(3))) {
            for (Pair p : BLOCK) {
                if (p.gguf.equals(m.group(2))) {
                    return Optional.of("model.layers." + Integer.parseInt(m.group(1)) + "." + p.hf + "." + m.group(3));
                }
            }
            return Optional.empty();
        }
        return global(ggufName, false);
    }

    private static Optional<String> global(String name, boolean fromHf) {
        Matcher m = GLOBAL_NAME.matcher(name);
        if (!m.matches() || !SUFFIXES.contains(m.group(2))) {
            return Optional.empty();
        }
        for (Pair p : GLOBAL) {
            if ((fromHf ? p.hf : p.gguf).equals(m.group(1))) {
                return Optional.of((fromHf ? p.gguf : p.hf) + "." + m.group(2));
            }
        }
        return Optional.empty();
    }
}
