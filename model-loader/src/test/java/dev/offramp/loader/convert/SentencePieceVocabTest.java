package dev.offramp.loader.convert;

import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufMetadata;
import dev.offramp.loader.gguf.GgufValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Llama 2's tokenizer.model must become exactly llama.cpp's ggml-vocab-llama-spm.gguf vocabulary. */
class SentencePieceVocabTest {

    @Test
    void llama2TokenizerModelEqualsLlamaCppsVocabulary() throws Exception {
        Map<String, GgufValue> md = SentencePieceVocab.read(Fixtures.model("tokenizers/llama2/tokenizer.model"));
        GgufMetadata ours = new GgufMetadata("ours", md);
        try (GgufFile ref = GgufFile.open(Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            GgufMetadata r = ref.metadata();
            assertThat(ours.getStringArray("tokenizer.ggml.tokens")).isEqualTo(r.getStringArray("tokenizer.ggml.tokens"));
            assertThat(ours.getFloatArray("tokenizer.ggml.scores")).isEqualTo(r.getFloatArray("tokenizer.ggml.scores"));
            assertThat(ours.getIntArray("tokenizer.ggml.token_type")).isEqualTo(r.getIntArray("tokenizer.ggml.token_type"));
            for (String k : new String[] {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                    "tokenizer.ggml.unknown_token_id"}) {
                assertThat(ours.getLong(k)).as(k).isEqualTo(r.getLong(k));
            }
            assertThat(ours.getString("tokenizer.ggml.model")).isEqualTo(r.getString("tokenizer.ggml.model"));
            assertThat(ours.getBool("tokenizer.ggml.add_bos_token")).isEqualTo(r.getBool("tokenizer.ggml.add_bos_token"));
        }
    }

    @Test
    void truncatedOrForeignFilesAreRefusedByName(@TempDir Path tmp) throws Exception {
        byte[] all = Files.readAllBytes(Fixtures.model("tokenizers/llama2/tokenizer.model"));
        Path cut = tmp.resolve("cut.model");
        Files.write(cut, Arrays.copyOf(all, 1001));
        assertThatThrownBy(() -> SentencePieceVocab.read(cut)).isInstanceOf(ConversionException.class)
                .hasMessageContaining("cut.model").hasMessageContaining("not a SentencePiece model");
        Path json = tmp.resolve("x.model");
        Files.writeString(json, "{\"model\": {}}");
        assertThatThrownBy(() -> SentencePieceVocab.read(json)).isInstanceOf(ConversionException.class);
    }
}
