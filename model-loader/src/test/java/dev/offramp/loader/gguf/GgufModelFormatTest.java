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
}
