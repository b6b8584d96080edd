package dev.offramp.loader.gguf;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.ModelFormat;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufModelFormatTest {

    @Test
    void registeredAndAcceptsByMagic() {
        ModelFormat f = ServiceLoader.load(ModelFormat.class).stream().map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals("gguf")).findFirst().orElseThrow();
        assertThat(f.accepts(Fixtures.model("stories260K.gguf"))).isTrue();
        assertThat(f.accepts(Fixtures.model("README.md"))).isFalse();
        assertThat(f.accepts(Fixtures.model("derived/stories260K-hf"))).isFalse();
    }

    @Test
    void stories260KConfig() throws Exception {
        Path p = Fixtures.model("stories260K.gguf");
        try (ModelSource m = new GgufModelFormat().open(p, null)) {
            ModelConfig c = m.config();
            assertThat(c).isEqualTo(new ModelConfig("llama", 512, 64, 5, 8, 4, 8, 172, 2048, 1e-5f, 10000f, 8,
                    RopeStyle.NORMAL, RopeScaling.NONE, false, false, false, false));
            assertThat(m.tensors()).containsKey("blk.4.ffn_down.weight");
            assertThat(m.metadata()).containsEntry("general.architecture", "llama");
            assertThat(m.path()).isEqualTo(p);
            Tokenizer tok = m.tokenizer().orElseThrow();
            assertThat(tok.vocabSize()).isEqualTo(512);
            assertThat(tok.bos()).isEqualTo(1);
            // llama.cpp's tokenization of this prompt with this vocabulary (shared notes, toolchain.md)
            assertThat(tok.encode("Once upon a time", false, false)).containsExactly(403, 407, 261, 378);
        }
    }

    @Test
    void tokenizerOverrideFromAnotherGguf() throws Exception {
        try (ModelSource m = new GgufModelFormat().open(Fixtures.model("stories260K.gguf"),
                Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            assertThat(m.tokenizer().orElseThrow().vocabSize()).isEqualTo(32000);
        }
        assertThatThrownBy(() -> new GgufModelFormat().open(Fixtures.model("stories260K.gguf"), Fixtures.model("README.md")))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("README.md");
    }

    @Test
    void tiedEmbeddingsWhenNoOutputWeight() throws Exception {
        try (ModelSource m = new GgufModelFormat().open(Fixtures.model("trained/stories-ee12-Q8_0.gguf"), null)) {
            ModelConfig c = m.config();
            assertThat(c.tiedEmbeddings()).isTrue();
            assertThat(c.dim()).isEqualTo(256);
            assertThat(c.layers()).isEqualTo(12);
            assertThat(c.heads()).isEqualTo(8);
            assertThat(c.kvHeads()).isEqualTo(4);
            assertThat(c.headDim()).isEqualTo(32);
            assertThat(c.ffnDim()).isEqualTo(768);
            assertThat(c.vocabSize()).isEqualTo(512);
        }
    }

    /** A tiny synthetic model of {@code arch} with optional q/k/v biases and extra metadata. */
    private static byte[] tiny(String arch, boolean qkvBias, boolean tied, java.util.Map<String, GgufValue> extra) {
        GgufWriter w = GgufWriter.create()
                .put("general.architecture", GgufValue.string(arch))
                .put(arch + ".embedding_length", GgufValue.uint32(64))
                .put(arch + ".block_count", GgufValue.uint32(1))
                .put(arch + ".attention.head_count", GgufValue.uint32(4))
                .put(arch + ".attention.head_count_kv", GgufValue.uint32(2))
                .put(arch + ".feed_forward_length", GgufValue.uint32(96))
                .put(arch + ".context_length", GgufValue.uint32(4096))
                .put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.float32(1e-6f))
                .put(arch + ".rope.freq_base", GgufValue.float32(1_000_000f))
                .putAll(extra)
                .addZeroTensor("token_embd.weight", dev.offramp.core.tensor.DType.F32, new long[] {100, 64});
        if (!tied) {
            w.addZeroTensor("output.weight", dev.offramp.core.tensor.DType.F32, new long[] {100, 64});
        }
        if (qkvBias) {
            w.addZeroTensor("blk.0.attn_q.bias", dev.offramp.core.tensor.DType.F32, new long[] {64});
            w.addZeroTensor("blk.0.attn_k.bias", dev.offramp.core.tensor.DType.F32, new long[] {32});
            w.addZeroTensor("blk.0.attn_v.bias", dev.offramp.core.tensor.DType.F32, new long[] {32});
        }
        return w.toBytes();
    }

    @Test
    void qwen2IsNeoxWithQkvBiases() throws Exception {
        try (GgufFile g = GgufFile.open(tiny("qwen2", true, true, java.util.Map.of()), "qwen2.gguf")) {
            ModelConfig c = GgufModelConfigs.from(g);
            assertThat(c).isEqualTo(new ModelConfig("qwen2", 100, 64, 1, 4, 2, 16, 96, 4096, 1e-6f, 1_000_000f, 16,
                    RopeStyle.NEOX, RopeScaling.NONE, true, true, false, false));
        }
    }

    @Test
    void mistralIsNormalRopeAndKeysOverrideDefaults() throws Exception {
        var extra = java.util.Map.of("mistral.attention.key_length", GgufValue.uint32(32),
                "mistral.rope.dimension_count", GgufValue.uint32(16),
                "mistral.rope.scaling.type", GgufValue.string("linear"),
                "mistral.rope.scaling.factor", GgufValue.float32(4f));
        try (GgufFile g = GgufFile.open(tiny("mistral", false, false, extra), "mistral.gguf")) {
            ModelConfig c = GgufModelConfigs.from(g);
            assertThat(c.ropeStyle()).isEqualTo(RopeStyle.NORMAL);
            assertThat(c.headDim()).isEqualTo(32);
            assertThat(c.qDim()).isEqualTo(128);
            assertThat(c.ropeDim()).isEqualTo(16);
            assertThat(c.ropeScaling()).isEqualTo(new RopeScaling.Linear(4f));
            assertThat(c.tiedEmbeddings()).isFalse();
            assertThat(c.attentionBias()).isFalse();
        }
    }

    @Test
    void unsupportedOrIncompleteMetadataIsNamed() throws Exception {
        try (GgufFile g = GgufFile.open(tiny("llama", false, true,
                java.util.Map.of("llama.rope.scaling.type", GgufValue.string("yarn"))), "yarn.gguf")) {
            assertThatThrownBy(() -> GgufModelConfigs.from(g)).isInstanceOf(GgufFormatException.class)
                    .hasMessageContaining("yarn.gguf").hasMessageContaining("llama.rope.scaling.type").hasMessageContaining("yarn");
        }
        try (GgufFile g = GgufFile.open(tiny("gemma", false, true, java.util.Map.of()), "gemma.gguf")) {
            assertThatThrownBy(() -> GgufModelConfigs.from(g)).isInstanceOf(GgufFormatException.class)
                    .hasMessageContaining("gemma.gguf").hasMessageContaining("'gemma' is not supported");
        }
        byte[] noCtx = GgufWriter.create().put("general.architecture", GgufValue.string("llama"))
                .put("llama.embedding_length", GgufValue.uint32(64)).toBytes();
        try (GgufFile g = GgufFile.open(noCtx, "partial.gguf")) {
            assertThatThrownBy(() -> GgufModelConfigs.from(g)).isInstanceOf(GgufFormatException.class)
                    .hasMessageContaining("partial.gguf").hasMessageContaining("llama.block_count").hasMessageContaining("missing");
        }
    }
}
