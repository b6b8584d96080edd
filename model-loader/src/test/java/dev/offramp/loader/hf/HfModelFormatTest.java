package dev.offramp.loader.hf;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.safetensors.SafetensorsFile;
import dev.offramp.loader.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HfModelFormatTest {

    @TempDir
    Path tmp;

    private final HfModelFormat format = new HfModelFormat();

    @Test
    void opensStoriesFolderWithGgufNamesAndNoCopy() throws IOException {
        Path dir = Fixtures.model("derived/stories260K-hf");
        assertThat(format.accepts(dir)).isTrue();
        assertThat(format.accepts(dir.resolve("config.json"))).isTrue();
        try (ModelSource src = format.open(dir, null); SafetensorsFile raw = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            ModelConfig c = src.config();
            assertThat(c.ropeStyle()).isEqualTo(RopeStyle.NEOX);
            assertThat(c.layers()).isEqualTo(5);
            assertThat(c.tiedEmbeddings()).isTrue();
            assertThat(src.tensors()).hasSize(47).containsKeys("token_embd.weight", "output_norm.weight",
                    "blk.4.attn_q.weight", "blk.0.attn_output.weight", "blk.2.ffn_down.weight");
            Tensor wq = src.tensors().get("blk.1.attn_q.weight");
            assertThat(wq.data().isMapped()).isTrue();
            assertThat(wq.data().mismatch(raw.tensors().get("model.layers.1.self_attn.q_proj.weight").data()))
                    .isEqualTo(-1L);
            assertThat(src.metadata()).containsEntry("hf.model_type", "llama").containsEntry("hf.vocab_size", 512);
            assertThat(src.tokenizer()).isEmpty();
            assertThat(src.path()).isEqualTo(dir);
        }
    }

    @Test
    void shardedFolderLoadsLikeTheSingleFile() throws IOException {
        Path src = Fixtures.model("derived/stories260K-hf");
        Files.copy(src.resolve("config.json"), tmp.resolve("config.json"));
        try (SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            List<Path> files = SafetensorsWriter.writeCheckpoint(tmp, f.metadata(),
                    f.tensors().values().stream().map(SafetensorsWriter::entry).toList(), 300_000);
            assertThat(files).hasSizeGreaterThan(3);
            assertThat(format.accepts(tmp)).isTrue();
            try (ModelSource a = format.open(src, null); ModelSource b = format.open(tmp, null)) {
                assertThat(b.config()).isEqualTo(a.config());
                assertThat(b.tensors().keySet()).isEqualTo(a.tensors().keySet());
                a.tensors().forEach((name, t) ->
                        assertThat(b.tensors().get(name).data().mismatch(t.data())).as(name).isEqualTo(-1L));
            }
        }
    }

    @Test
    void rejectsFoldersThatAreNotHfModels() throws IOException {
        assertThat(format.accepts(tmp)).isFalse();
        assertThat(format.accepts(Fixtures.model("stories260K.gguf"))).isFalse();
        assertThatThrownBy(() -> format.open(tmp, null)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("config.json");
    }

    /** A copy of stories260K-hf with one tensor dropped or reshaped must be refused by name. */
    @Test
    void missingOrMisshapenTensorIsNamed() throws IOException {
        Path src = Fixtures.model("derived/stories260K-hf");
        Files.copy(src.resolve("config.json"), tmp.resolve("config.json"));
        try (SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            List<Tensor> some = new ArrayList<>(f.tensors().values());
            some.removeIf(t -> t.name().equals("model.layers.3.mlp.up_proj.weight"));
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), Map.of(), some);
            assertThatThrownBy(() -> format.open(tmp, null).close()).isInstanceOf(HfFormatException.class)
                    .hasMessageContaining("model.layers.3.mlp.up_proj.weight").hasMessageContaining("missing");

            List<Tensor> odd = new ArrayList<>(f.tensors().values());
            Tensor v = f.tensors().get("model.layers.0.self_attn.v_proj.weight");
            odd.replaceAll(t -> t == v ? new Tensor(v.name(), v.type(), new long[]{64, 32}, v.data()) : t);
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), Map.of(), odd);
            assertThatThrownBy(() -> format.open(tmp, null).close()).isInstanceOf(HfFormatException.class)
                    .hasMessageContaining("model.layers.0.self_attn.v_proj.weight").hasMessageContaining("[32, 64]");

            List<Tensor> alien = new ArrayList<>(f.tensors().values());
            alien.add(new Tensor("model.layers.0.self_attn.q_norm.weight", v.type(), new long[]{8},
                    v.data().asSlice(0, 32)));
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), Map.of(), alien);
            assertThatThrownBy(() -> format.open(tmp, null).close()).isInstanceOf(HfFormatException.class)
                    .hasMessageContaining("q_norm");
        }
    }
}
