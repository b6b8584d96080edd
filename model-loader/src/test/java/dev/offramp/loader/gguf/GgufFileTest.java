package dev.offramp.loader.gguf;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufFileTest {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void readsStories260K() throws Exception {
        Path p = Fixtures.model("stories260K.gguf");
        try (GgufFile g = GgufFile.open(p)) {
            GgufMetadata md = g.metadata();
            assertThat(g.version()).isIn(2, 3);
            assertThat(md.getString("general.architecture")).isEqualTo("llama");
            assertThat(md.getInt("llama.embedding_length")).isEqualTo(64);
            assertThat(md.getInt("llama.block_count")).isEqualTo(5);
            assertThat(md.getString("tokenizer.ggml.model")).isEqualTo("llama");
            assertThat(md.getStringArray("tokenizer.ggml.tokens")).hasSize(512);
            assertThat(md.getFloatArray("tokenizer.ggml.scores")).hasSize(512);
            assertThat(md.getIntArray("tokenizer.ggml.token_type")).hasSize(512);
            assertThat(md.getInt("tokenizer.ggml.bos_token_id")).isEqualTo(1);
            assertThat(md.getInt("tokenizer.ggml.eos_token_id")).isEqualTo(2);

            Tensor emb = g.tensor("token_embd.weight");
            assertThat(emb.type()).isEqualTo(DType.F32);
            assertThat(emb.shape()).containsExactly(512, 64);
            Tensor norm = g.tensor("blk.0.attn_norm.weight");
            assertThat(norm.shape()).containsExactly(64);
            // 5 layers x 9 tensors + token_embd + output_norm + output
            assertThat(g.tensors()).hasSize(5 * 9 + 3);
            assertThat(g.tensor("output.weight").shape()).containsExactly(512, 64);
            // data is a view of the mapped file: compare a float with the file bytes read directly
            byte[] raw = Files.readAllBytes(p);
            GgufTensorInfo info = g.tensorInfos().stream().filter(t -> t.name().equals("token_embd.weight")).findFirst().orElseThrow();
            assertThat(info.fileOffset() % g.alignment()).isZero();
            float viaTensor = emb.data().get(F32, 4 * 123);
            assertThat(viaTensor).isEqualTo(java.lang.foreign.MemorySegment.ofArray(raw).get(F32, info.fileOffset() + 4 * 123));
            assertThat(viaTensor).isNotZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama.cpp-vocab/ggml-vocab-llama-spm.gguf", "llama.cpp-vocab/ggml-vocab-phi-3.gguf",
            "llama.cpp-vocab/ggml-vocab-gpt-2.gguf", "llama.cpp-vocab/ggml-vocab-deepseek-coder.gguf",
            "llama.cpp-vocab/ggml-vocab-deepseek-llm.gguf", "llama.cpp-vocab/ggml-vocab-starcoder.gguf",
            "random/llama-2-tiny-random.gguf", "random/tiny-llama3-vocab.gguf", "derived/stories260K-Q8_0.gguf",
            "derived/stories260K-Q4_0.gguf", "derived/ggml-quant-vectors.gguf", "trained/stories-ee12-Q4_0.gguf"})
    void readsEveryFixture(String rel) throws Exception {
        try (GgufFile g = GgufFile.open(Fixtures.model(rel))) {
            assertThat(g.metadata().getString("general.architecture")).isNotEmpty();
            String model = g.metadata().getString("tokenizer.ggml.model", null);
            if (model != null) {
                assertThat(g.metadata().getStringArray("tokenizer.ggml.tokens")).isNotEmpty();
            }
            for (Tensor t : g.tensors().values()) {
                assertThat(t.byteSize()).isEqualTo(t.type().bytesFor(t.elementCount()));
            }
        }
    }

    @Test
    void quantVectorsHaveEveryGgmlType() throws Exception {
        try (GgufFile g = GgufFile.open(Fixtures.model("derived/ggml-quant-vectors.gguf"))) {
            assertThat(g.tensor("quant.q4_k").type()).isEqualTo(DType.Q4_K);
            assertThat(g.tensor("quant.q6_k").type()).isEqualTo(DType.Q6_K);
            assertThat(g.tensor("quant.q5_1").type()).isEqualTo(DType.Q5_1);
            assertThat(g.tensor("dequant.q4_k").type()).isEqualTo(DType.F32);
            assertThat(g.tensor("quant.q4_k").shape()).containsExactly(32, 256);
        }
    }

    @Test
    void metadataErrorsNameFileAndKey() throws Exception {
        try (GgufFile g = GgufFile.open(Fixtures.model("stories260K.gguf"))) {
            assertThatThrownBy(() -> g.metadata().getInt("no.such.key"))
                    .isInstanceOf(GgufMetadataException.class)
                    .hasMessageContaining("stories260K.gguf").hasMessageContaining("no.such.key").hasMessageContaining("missing");
            assertThatThrownBy(() -> g.metadata().getInt("general.architecture"))
                    .isInstanceOf(GgufMetadataException.class)
                    .hasMessageContaining("general.architecture").hasMessageContaining("expected an integer");
            assertThatThrownBy(() -> g.metadata().getFloatArray("tokenizer.ggml.tokens"))
                    .hasMessageContaining("tokenizer.ggml.tokens").hasMessageContaining("STRING");
            assertThat(g.metadata().getInt("no.such.key", 7)).isEqualTo(7);
            assertThatThrownBy(() -> g.tensor("nope")).hasMessageContaining("stories260K.gguf").hasMessageContaining("nope");
        }
    }

    @Test
    void closeUnmaps() throws Exception {
        GgufFile g = GgufFile.open(Fixtures.model("stories260K.gguf"));
        Tensor t = g.tensor("token_embd.weight");
        g.close();
        g.close();
        assertThatThrownBy(() -> t.data().get(F32, 0)).isInstanceOf(IllegalStateException.class);
    }
}
