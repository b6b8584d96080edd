package dev.offramp.loader.hf;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class HfTensorNamesTest {

    private static final Map<String, String> PAIRS = Map.ofEntries(
            Map.entry("model.embed_tokens.weight", "token_embd.weight"),
            Map.entry("model.norm.weight", "output_norm.weight"),
            Map.entry("lm_head.weight", "output.weight"),
            Map.entry("model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"),
            Map.entry("model.layers.11.self_attn.k_proj.weight", "blk.11.attn_k.weight"),
            Map.entry("model.layers.2.self_attn.v_proj.bias", "blk.2.attn_v.bias"),
            Map.entry("model.layers.2.self_attn.q_proj.bias", "blk.2.attn_q.bias"),
            Map.entry("model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight"),
            Map.entry("model.layers.3.self_attn.o_proj.bias", "blk.3.attn_output.bias"),
            Map.entry("model.layers.4.input_layernorm.weight", "blk.4.attn_norm.weight"),
            Map.entry("model.layers.4.post_attention_layernorm.weight", "blk.4.ffn_norm.weight"),
            Map.entry("model.layers.127.mlp.gate_proj.weight", "blk.127.ffn_gate.weight"),
            Map.entry("model.layers.5.mlp.up_proj.bias", "blk.5.ffn_up.bias"),
            Map.entry("model.layers.5.mlp.down_proj.weight", "blk.5.ffn_down.weight"),
            Map.entry("model.layers.5.mlp.down_proj.weight_scale", "blk.5.ffn_down.weight_scale"),
            Map.entry("model.layers.6.self_attn.k_proj.input_scale", "blk.6.attn_k.input_scale"));

    @Test
    void mapsBothWays() {
        PAIRS.forEach((hf, gguf) -> {
            assertThat(HfTensorNames.toGguf(hf)).as(hf).contains(gguf);
            assertThat(HfTensorNames.toHf(gguf)).as(gguf).contains(hf);
        });
    }

    @Test
    void unknownNamesMapToNothing() {
        for (String s : List.of("model.layers.0.self_attn.q_norm.weight", "model.layers.x.mlp.up_proj.weight",
                "model.embed_tokens.scales", "transformer.wte.weight", "model.layers.0.mlp.up_proj", "")) {
            assertThat(HfTensorNames.toGguf(s)).as(s).isEmpty();
        }
        for (String s : List.of("blk.0.attn_qkv.weight", "rope_freqs.weight", "attn_q.weight", "blk.0.ffn_up")) {
            assertThat(HfTensorNames.toHf(s)).as(s).isEmpty();
        }
    }

    @Test
    void inverseFrequencyBuffersAreIgnorable() {
        assertThat(HfTensorNames.isIgnorable("model.layers.0.self_attn.rotary_emb.inv_freq")).isTrue();
        assertThat(HfTensorNames.isIgnorable("model.layers.0.self_attn.q_proj.weight")).isFalse();
    }
}
