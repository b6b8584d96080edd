package dev.offramp.loader.hf;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** HF folders find their tokenizer (tokenizer.model / tokenizer.json in the folder, or an override). */
class HfTokenizerLookupTest {

    @TempDir
    Path dir;

    /** A tiny random-weight HF Llama folder with a 32,000-row vocabulary (Llama 2's). */
    private void tinyLlama2Folder() throws IOException {
        ModelConfig c = new ModelConfig("llama", 32000, 32, 1, 2, 1, 16, 64, 128, 1e-5f, 10000f, 16, RopeStyle.NEOX,
                RopeScaling.NONE, true, false, false, false);
        Files.writeString(dir.resolve("config.json"), HfConfig.toJson(c, null));
        List<Tensor> t = new ArrayList<>();
        t.add(zeros("model.embed_tokens.weight", 32000, 32));
        t.add(zeros("model.norm.weight", 32));
        String b = "model.layers.0.";
        t.add(zeros(b + "input_layernorm.weight", 32));
        t.add(zeros(b + "post_attention_layernorm.weight", 32));
        t.add(zeros(b + "self_attn.q_proj.weight", 32, 32));
        t.add(zeros(b + "self_attn.k_proj.weight", 16, 32));
        t.add(zeros(b + "self_attn.v_proj.weight", 16, 32));
        t.add(zeros(b + "self_attn.o_proj.weight", 32, 32));
        t.add(zeros(b + "mlp.gate_proj.weight", 64, 32));
        t.add(zeros(b + "mlp.up_proj.weight", 64, 32));
        t.add(zeros(b + "mlp.down_proj.weight", 32, 64));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of(), t);
    }

    private static Tensor zeros(String name, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return new Tensor(name, DType.F16, shape, MemorySegment.ofArray(new byte[(int) (2 * n)]));
    }

    @Test
    void sentencePieceModelInTheFolder() throws IOException {
        tinyLlama2Folder();
        Files.copy(Fixtures.model("tokenizers/llama2/tokenizer.model"), dir.resolve("tokenizer.model"));
        try (ModelSource src = new HfModelFormat().open(dir, null)) {
            Tokenizer tok = src.tokenizer().orElseThrow();
            assertThat(tok.vocabSize()).isEqualTo(32000);
            int[] ids = tok.encode("Hello world", true, false);
            assertThat(ids[0]).isEqualTo(tok.bos());
            assertThat(tok.decode(ids, false).strip()).isEqualTo("Hello world");
        }
    }

    @Test
    void tokenizerLargerThanTheModelIsRefused() {
        assertThatThrownBy(() -> new HfModelFormat().open(Fixtures.model("derived/stories260K-hf"),
                Fixtures.model("tokenizers/llama2/tokenizer.model")).close())
                .isInstanceOf(HfFormatException.class).hasMessageContaining("32000").hasMessageContaining("512");
    }

    @Test
    void brokenTokenizerFileIsNamed() throws IOException {
        tinyLlama2Folder();
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": 17");
        assertThatThrownBy(() -> new HfModelFormat().open(dir, null).close())
                .isInstanceOf(HfFormatException.class).hasMessageContaining("tokenizer.json");
        assertThatThrownBy(() -> new HfModelFormat().open(dir, dir.resolve("nope.model")).close())
                .isInstanceOf(HfFormatException.class).hasMessageContaining("nope.model");
    }
}
