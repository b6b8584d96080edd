package dev.offramp.loader.hf;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HfConfigTest {

    @TempDir
    Path tmp;

    private HfConfig parse(String json) throws IOException {
        Path p = tmp.resolve("config.json");
        Files.writeString(p, json);
        return HfConfig.read(p);
    }

    @Test
    void storiesFixture() throws IOException {
        ModelConfig c = HfConfig.read(Fixtures.model("trained/stories-ee12-hf/config.json")).config();
        assertThat(c).isEqualTo(new ModelConfig("llama", 512, 256, 12, 8, 4, 32, 768, 512, 1e-5f, 10000f, 32,
                RopeStyle.NEOX, RopeScaling.NONE, true, false, false, false));
    }

    @Test
    void llama32WithLlama3RopeScaling() throws IOException {
        HfConfig hf = parse("""
                {"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":2048,
                 "intermediate_size":8192,"num_hidden_layers":16,"num_attention_heads":32,"num_key_value_heads":8,
                 "head_dim":64,"vocab_size":128256,"max_position_embeddings":131072,"rms_norm_eps":1e-05,
                 "rope_theta":500000.0,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,
                 "original_max_position_embeddings":8192,"rope_type":"llama3"},"tie_word_embeddings":true,
                 "attention_bias":false,"mlp_bias":false,"hidden_act":"silu","torch_dtype":"bfloat16"}""");
        ModelConfig c = hf.config();
        assertThat(c.ropeScaling()).isEqualTo(new RopeScaling.Llama3(32f, 1f, 4f, 8192));
        assertThat(c.ropeTheta()).isEqualTo(500000f);
        assertThat(c.kvHeads()).isEqualTo(8);
        assertThat(c.contextLength()).isEqualTo(131072);
        assertThat(c.tiedEmbeddings()).isTrue();
        assertThat(hf.raw()).containsEntry("torch_dtype", "bfloat16");
    }

    @Test
    void qwen2HasImplicitQkvBiases() throws IOException {
        ModelConfig c = parse("""
                {"model_type":"qwen2","hidden_size":896,"intermediate_size":4864,"num_hidden_layers":24,
                 "num_attention_heads":14,"num_key_value_heads":2,"vocab_size":151936,"max_position_embeddings":32768,
                 "rms_norm_eps":1e-06,"rope_theta":1000000.0,"rope_scaling":null,"tie_word_embeddings":true,
                 "sliding_window":32768,"use_sliding_window":false,"hidden_act":"silu"}""").config();
        assertThat(c.architecture()).isEqualTo("qwen2");
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.attentionBias()).isTrue();
        assertThat(c.attentionOutBias()).isFalse();
        assertThat(c.ropeStyle()).isEqualTo(RopeStyle.NEOX);
    }

    @Test
    void mistralDefaultsAndNullHeadDim() throws IOException {
        ModelConfig c = parse("""
                {"model_type":"mistral","hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,
                 "num_attention_heads":32,"num_key_value_heads":8,"head_dim":null,"vocab_size":32000,
                 "rope_theta":1000000.0,"sliding_window":null}""").config();
        assertThat(c.architecture()).isEqualTo("llama");
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.normEps()).isEqualTo(1e-6f);
        assertThat(c.tiedEmbeddings()).isFalse();
    }

    @Test
    void smolLmStyleLlamaWithLinearScalingAndBiases() throws IOException {
        ModelConfig c = parse("""
                {"model_type":"llama","hidden_size":576,"intermediate_size":1536,"num_hidden_layers":30,
                 "num_attention_heads":9,"num_key_value_heads":3,"vocab_size":49152,"max_position_embeddings":2048,
                 "rope_scaling":{"type":"linear","factor":2.0},"attention_bias":true,"mlp_bias":true,
                 "tie_word_embeddings":true}""").config();
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.ropeScaling()).isEqualTo(new RopeScaling.Linear(2f));
        assertThat(c.attentionBias()).isTrue();
        assertThat(c.attentionOutBias()).isTrue();
        assertThat(c.mlpBias()).isTrue();
        assertThat(c.ropeTheta()).isEqualTo(10000f);
    }

    @Test
    void ropeParametersOfNewerTransformers() throws IOException {
        ModelConfig c = parse("""
                {"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,
                 "num_attention_heads":4,"vocab_size":100,
                 "rope_parameters":{"rope_type":"llama3","rope_theta":500000.0,"factor":8.0,"low_freq_factor":1.0,
                 "high_freq_factor":4.0,"original_max_position_embeddings":8192}}""").config();
        assertThat(c.ropeTheta()).isEqualTo(500000f);
        assertThat(c.ropeScaling()).isEqualTo(new RopeScaling.Llama3(8f, 1f, 4f, 8192));
    }

    @Test
    void writtenConfigReadsBackAsTheSameModel() throws IOException {
        ModelConfig[] configs = {
                new ModelConfig("llama", 128256, 2048, 16, 32, 8, 64, 8192, 131072, 1e-5f, 500000f, 64, RopeStyle.NEOX,
                        new RopeScaling.Llama3(32f, 1f, 4f, 8192), true, false, false, false),
                new ModelConfig("qwen2", 151936, 896, 24, 14, 2, 64, 4864, 32768, 1e-6f, 1e6f, 64, RopeStyle.NEOX,
                        RopeScaling.NONE, true, true, false, false),
                new ModelConfig("llama", 49152, 576, 30, 9, 3, 64, 1536, 2048, 1e-5f, 10000f, 32, RopeStyle.NEOX,
                        new RopeScaling.Linear(4f), false, true, true, true)};
        for (ModelConfig c : configs) {
            HfConfig back = parse(HfConfig.toJson(c, java.util.Map.of("torch_dtype", "float32")));
            assertThat(back.config()).isEqualTo(c);
            assertThat(back.raw()).containsEntry("torch_dtype", "float32");
        }
        // the stories fixture's config, written from the parsed record, reads back identically
        ModelConfig stories = HfConfig.read(Fixtures.model("trained/stories-ee12-hf/config.json")).config();
        assertThat(parse(HfConfig.toJson(stories, null)).config()).isEqualTo(stories);
        ModelConfig inexpressible = new ModelConfig("qwen2", 10, 64, 1, 4, 4, 16, 64, 64, 1e-6f, 1e4f, 16,
                RopeStyle.NEOX, RopeScaling.NONE, true, false, false, false);
        assertThatThrownBy(() -> HfConfig.toJson(inexpressible, null)).isInstanceOf(IllegalArgumentException.class);
    }

    private void rejects(String json, String... fragments) {
        var a = assertThatThrownBy(() -> parse(json)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("config.json");
        for (String f : fragments) {
            a.hasMessageContaining(f);
        }
    }

    @Test
    void badConfigsNameTheField() {
        String base = "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                + "\"vocab_size\":100";
        rejects("{\"model_type\":\"llama\"," + base.replace("\"vocab_size\":100", "\"vocab_size\":-3") + "}", "'vocab_size'");
        rejects("{\"model_type\":\"llama\"," + base.replace(",\"vocab_size\":100", "") + "}", "'vocab_size'", "missing");
        rejects("{" + base + "}", "'model_type'");
        rejects("{\"model_type\":\"gemma\"," + base + "}", "gemma");
        rejects("{\"model_type\":\"llama\",\"hidden_act\":\"gelu\"," + base + "}", "gelu");
        rejects("{\"model_type\":\"llama\",\"num_key_value_heads\":3," + base + "}", "num_key_value_heads");
        rejects("{\"model_type\":\"llama\",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}," + base + "}", "yarn");
        rejects("{\"model_type\":\"llama\",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":4}," + base + "}",
                "low_freq_factor");
        rejects("{\"model_type\":\"llama\",\"tie_word_embeddings\":\"yes\"," + base + "}", "tie_word_embeddings");
        rejects("{\"model_type\":\"llama\",\"rms_norm_eps\":0," + base + "}", "rms_norm_eps");
        rejects("{\"model_type\":\"llama\"," + base, "malformed JSON");
        rejects("[1]", "not a JSON object");
    }
}
