package dev.offramp.loader.safetensors;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.offramp.loader.safetensors.SafetensorsRoundTripTest.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsShardTest {

    @TempDir
    Path dir;

    private final Random rnd = new Random(7);
    private final Tensor a = random("a.weight", DType.F32, rnd, 4, 4);
    private final Tensor b = random("b.weight", DType.BF16, rnd, 8);
    private final Tensor c = random("c.weight", DType.F16, rnd, 2, 2);

    private void shards() throws IOException {
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), Map.of("format", "pt"), List.of(a, b));
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), Map.of(), List.of(c));
    }

    private void index(String body) throws IOException {
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE),
                "{\"metadata\":{\"total_size\":0},\"weight_map\":{" + body + "}}");
    }

    @Test
    void shardedFolderLoadsAsOne() throws IOException {
        shards();
        index("\"a.weight\":\"model-00001-of-00002.safetensors\",\"b.weight\":\"model-00001-of-00002.safetensors\","
                + "\"c.weight\":\"model-00002-of-00002.safetensors\"");
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
            assertThat(ck.files()).hasSize(2);
            assertThat(ck.tensors()).containsOnlyKeys("a.weight", "b.weight", "c.weight");
            assertThat(ck.tensors().get("c.weight").data().mismatch(c.data())).isEqualTo(-1L);
            assertThat(ck.metadata()).containsEntry("format", "pt");
        }
    }

    @Test
    void writtenCheckpointShardsAndReadsBack() throws IOException {
        List<SafetensorsWriter.Entry> entries = List.of(SafetensorsWriter.entry(a), SafetensorsWriter.entry(b),
                SafetensorsWriter.entry(c));
        // a = 64 bytes, b = 16, c = 8: a limit of 70 puts a alone, then b and c together
        List<Path> files = SafetensorsWriter.writeCheckpoint(dir, Map.of("format", "pt"), entries, 70);
        assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly(
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", SafetensorsCheckpoint.INDEX_FILE);
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
            assertThat(ck.files()).hasSize(2);
            assertThat(ck.files().get(1).tensors()).containsOnlyKeys("b.weight", "c.weight");
            for (Tensor t : List.of(a, b, c)) {
                assertThat(ck.tensors().get(t.name()).data().mismatch(t.data())).isEqualTo(-1L);
            }
        }
        assertThat(Files.readString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE))).contains("\"total_size\" : 88");

        Path one = dir.resolve("single");
        assertThat(SafetensorsWriter.writeCheckpoint(one, Map.of(), entries, 1 << 20))
                .containsExactly(one.resolve(SafetensorsCheckpoint.SINGLE_FILE));
    }

    @Test
    void missingShardIsNamed() throws IOException {
        shards();
        index("\"a.weight\":\"model-00001-of-00002.safetensors\",\"c.weight\":\"model-00003-of-00003.safetensors\"");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir))
                .isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining(SafetensorsCheckpoint.INDEX_FILE)
                .hasMessageContaining("model-00003-of-00003.safetensors")
                .hasMessageContaining("missing");
    }

    @Test
    void tensorInWrongShardIsNamed() throws IOException {
        shards();
        index("\"a.weight\":\"model-00002-of-00002.safetensors\"");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir))
                .isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining("'a.weight'");
    }

    @Test
    void shardOutsideFolderIsRefused() throws IOException {
        shards();
        index("\"a.weight\":\"../model-00001-of-00002.safetensors\"");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir))
                .isInstanceOf(SafetensorsFormatException.class).hasMessageContaining("outside");
    }

    @Test
    void malformedIndex() throws IOException {
        shards();
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"weight_map\": [");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir))
                .isInstanceOf(SafetensorsFormatException.class).hasMessageContaining("malformed JSON");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"metadata\":{}}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir))
                .isInstanceOf(SafetensorsFormatException.class).hasMessageContaining("weight_map");
    }

    @Test
    void severalFilesWithoutIndexIsAnError() throws IOException {
        shards();
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir))
                .isInstanceOf(SafetensorsFormatException.class).hasMessageContaining("index");
    }
}
