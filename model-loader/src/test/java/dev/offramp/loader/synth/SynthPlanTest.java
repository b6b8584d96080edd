package dev.offramp.loader.synth;

import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufArray;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The named shapes' tensor tables and metadata, checked from dry-run plans (no GB-sized files). */
class SynthPlanTest {

    private static Path spm() {
        return Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-spm.gguf");
    }

    private static Path llama3() {
        return Fixtures.model("random/tiny-llama3-vocab.gguf");
    }

    @Test
    void tinyLlama() throws IOException {
        SynthPlan p = SyntheticModel.plan(SynthOptions.of(SynthShape.named("tinyllama-1.1b").orElseThrow(), DType.Q4_0)
                .withVocabFile(spm()));
        // TinyLlama-1.1B's published parameter count.
        assertThat(p.parameterCount()).isEqualTo(1_100_048_384L);
        assertThat(p.tensors()).hasSize(22 * 9 + 3);
        assertThat(p.tensor("blk.21.attn_k.weight").shape()).containsExactly(256, 2048);
        assertThat(p.tensor("blk.0.ffn_down.weight").shape()).containsExactly(2048, 5632);
        // llama-quantize's rule: the head in Q6_K. Weights read per token then come to the 599 MB
        // the peer figures (shared/notes/peers.md) list for TinyLlama Q4_0.
        assertThat(p.tensor("output.weight").type()).isEqualTo(DType.Q6_K);
        long perToken = p.dataBytes() - p.tensor("token_embd.weight").byteSize();
        assertThat(perToken).isEqualTo(544_997_376L + 53_760_000L + 45L * 2048 * 4);
        assertThat(p.tensor("blk.3.ffn_up.weight").type()).isEqualTo(DType.Q4_0);
        assertThat(p.metadata().get("llama.attention.head_count_kv").asLong()).isEqualTo(4);
        assertThat(p.metadata().get("tokenizer.ggml.model").value()).isEqualTo("llama");
        assertThat(((GgufArray) p.metadata().get("tokenizer.ggml.tokens").value()).size()).isEqualTo(32000);
        assertThat(p.metadata().get("general.file_type").asLong()).isEqualTo(2);
        assertThat(p.config().tiedEmbeddings()).isFalse();
    }

    @Test
    void llama32() throws IOException {
        SynthPlan p = SyntheticModel.plan(SynthOptions.of(SynthShape.named("llama-3.2-1b").orElseThrow(), DType.BF16)
                .withVocabFile(llama3()));
        // Llama-3.2-1B's published parameter count, plus the 32 rope_freqs divisors GGUF files carry.
        assertThat(p.parameterCount()).isEqualTo(1_235_814_400L + 32);
        assertThat(p.tensors()).hasSize(16 * 9 + 3);
        assertThat(p.tensors().stream().anyMatch(t -> t.name().equals("output.weight"))).isFalse();
        assertThat(p.tensor("token_embd.weight").shape()).containsExactly(128256, 2048);
        assertThat(p.metadata().get("llama.rope.freq_base").asDouble()).isEqualTo(500000.0);
        assertThat(p.metadata().get("tokenizer.ggml.model").value()).isEqualTo("gpt2");
        assertThat(p.config().ropeScaling()).isInstanceOf(RopeScaling.Llama3.class);
        float[] d = SyntheticModel.llama3Divisors(SynthShape.named("llama-3.2-1b").orElseThrow());
        assertThat(d).hasSize(32);
        assertThat(d[0]).isEqualTo(1f);
        assertThat(d[31]).isEqualTo(32f);
        for (int i = 1; i < d.length; i++) {
            assertThat(d[i]).isGreaterThanOrEqualTo(d[i - 1]);
        }
    }

    @Test
    void smolLm() throws IOException {
        SynthPlan p = SyntheticModel.plan(SynthOptions.of(SynthShape.named("smollm-135m").orElseThrow(), DType.F16)
                .withVocabFile(spm()).withInertFrom(20));
        // SmolLM-135M's 134,515,008 parameters less the 17,152 x 576 embedding rows its 49,152-token
        // vocabulary has beyond Llama 2's 32,000.
        assertThat(p.parameterCount()).isEqualTo(134_515_008L - 17_152L * 576);
        assertThat(p.tensor("blk.2.attn_q.weight").shape()).containsExactly(576, 576);
        assertThat(p.tensor("blk.2.attn_v.weight").shape()).containsExactly(192, 576);
        assertThat(p.tensor("blk.19.ffn_down.weight").fill()).isEqualTo(PlannedTensor.Fill.RANDOM);
        assertThat(p.tensor("blk.20.ffn_down.weight").fill()).isEqualTo(PlannedTensor.Fill.ZERO);
        assertThat(p.tensor("blk.29.attn_output.weight").fill()).isEqualTo(PlannedTensor.Fill.ZERO);
        assertThat(p.tensor("blk.29.attn_q.weight").fill()).isEqualTo(PlannedTensor.Fill.RANDOM);
        assertThat(p.metadata().get("offramp.synth.inert_from").asLong()).isEqualTo(20);
    }

    @Test
    void kQuantsFollowLlamaQuantizesFallbacks() throws IOException {
        SynthPlan p = SyntheticModel.plan(SynthOptions.of(SynthShape.named("smollm-135m").orElseThrow(), DType.Q4_K)
                .withVocabFile(spm()));
        // rows of 576 are not whole 256-value super-blocks: Q5_0 (as llama.cpp); rows of 1536 are
        assertThat(p.tensor("blk.0.attn_q.weight").type()).isEqualTo(DType.Q5_0);
        assertThat(p.tensor("blk.0.ffn_down.weight").type()).isEqualTo(DType.Q4_K);
        assertThat(p.tensor("token_embd.weight").type()).isEqualTo(DType.Q8_0); // tied head, rows of 576
        SynthPlan q = SyntheticModel.plan(SynthOptions.of(SynthShape.named("llama-3.2-1b").orElseThrow(), DType.Q4_0)
                .withVocabFile(llama3()).withEmbeddingType(DType.Q4_0));
        assertThat(q.tensor("token_embd.weight").type()).isEqualTo(DType.Q4_0);
        // with the tied head in Q4_0 this is the 695 MB of the peers' Llama-3.2-1B Q4_0
        assertThat(q.dataBytes()).isBetween(695_000_000L, 696_000_000L);
    }

    @Test
    void vocabularyMustMatchTheShape() {
        assertThatThrownBy(() -> SyntheticModel.plan(SynthOptions.of(SynthShape.named("tinyllama-1.1b").orElseThrow(),
                DType.F16).withVocabFile(llama3())))
                .isInstanceOf(IOException.class).hasMessageContaining("128256").hasMessageContaining("32000");
    }
}
