package dev.offramp.loader.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelInspectorTest {

    @Test
    void ggufReportAndJson() throws Exception {
        InspectReport r = ModelInspector.inspect(Fixtures.model("stories260K.gguf"));
        assertThat(r.format()).isEqualTo("gguf");
        assertThat(r.architecture()).isEqualTo("llama");
        assertThat(r.config().layers()).isEqualTo(5);
        assertThat(r.tokenizer().model()).isEqualTo("llama");
        assertThat(r.tokenizer().vocabSize()).isEqualTo(512);
        assertThat(r.tokenizer().bos()).isEqualTo(1);
        assertThat(r.tokenizer().eos()).isEqualTo(2);
        assertThat(r.tensors()).hasSize(48);
        assertThat(r.fileBytes()).isEqualTo(1_185_376L);
        // all data but the header: the tensors are F32, so the sum equals parameter count * 4
        assertThat(r.tensorBytes()).isLessThan(r.fileBytes()).isGreaterThan(r.fileBytes() * 9 / 10);

        String text = ModelInspector.toText(r);
        assertThat(text).contains("architecture: llama").contains("token_embd.weight").contains("[512, 64]")
                .contains("512 tokens, bos 1, eos 2");

        JsonNode j = new ObjectMapper().readTree(ModelInspector.toJson(r));
        assertThat(j.get("config").get("dim").asInt()).isEqualTo(64);
        assertThat(j.get("config").get("ropeStyle").asText()).isEqualTo("NORMAL");
        assertThat(j.get("tensorCount").asInt()).isEqualTo(48);
        JsonNode first = j.get("tensors").get(0);
        assertThat(first.get("name").asText()).isNotEmpty();
        assertThat(first.get("shape").isArray()).isTrue();
        assertThat(j.get("tokenizer").get("vocabSize").asInt()).isEqualTo(512);
        assertThat(j.get("metadata").get("general.architecture").asText()).isEqualTo("llama");
        assertThat(j.get("metadata").get("tokenizer.ggml.tokens").asText()).startsWith("STRING[512]");
    }

    @Test
    void vocabOnlyGgufHasNoConfigButATokenizer() throws Exception {
        InspectReport r = ModelInspector.inspect(Fixtures.model("llama.cpp-vocab/ggml-vocab-gpt-2.gguf"));
        assertThat(r.config()).isNull();
        assertThat(r.configError()).contains("gpt2");
        assertThat(r.tokenizer().model()).isEqualTo("gpt2");
        assertThat(r.tokenizer().merges()).isPositive();
        assertThat(ModelInspector.toText(r)).contains("config:       (none:");
    }

    @Test
    void hfFolderGoesThroughItsModelFormat() throws Exception {
        InspectReport r = ModelInspector.inspect(Fixtures.model("derived/stories260K-hf"));
        assertThat(r.format()).isNotEqualTo("gguf");
        assertThat(r.config().dim()).isEqualTo(64);
        assertThat(r.tensors()).isNotEmpty();
    }

    @Test
    void unknownFileIsAClearError() {
        assertThatThrownBy(() -> ModelInspector.inspect(Fixtures.model("README.md")))
                .hasMessageContaining("README.md").hasMessageContaining("not a model");
    }
}
