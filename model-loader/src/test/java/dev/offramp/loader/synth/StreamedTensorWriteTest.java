package dev.offramp.loader.synth;

import dev.offramp.core.tensor.DType;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The streaming {@code GgufWriter.addTensor(name, type, shape, producer)} the generator relies on. */
class StreamedTensorWriteTest {

    @TempDir
    Path tmp;

    private static GgufWriter.TensorProducer counting(int bytes) {
        return ch -> {
            ByteBuffer b = ByteBuffer.allocate(bytes);
            for (int i = 0; i < bytes; i++) {
                b.put(i, (byte) (i * 7 + 1));
            }
            // two writes: producers may write in pieces
            ch.write(b.slice(0, bytes / 2));
            ch.write(b.slice(bytes / 2, bytes - bytes / 2));
        };
    }

    @Test
    void streamedTensorsLandInFileAndInBytesAlike() throws IOException {
        GgufWriter w = GgufWriter.create().put("general.architecture", GgufValue.string("llama"))
                .addTensor("a", DType.F16, new long[]{3, 5}, counting(30))
                .addZeroTensor("z", DType.Q8_0, new long[]{2, 32})
                .addTensor("b", DType.Q4_0, new long[]{1, 64}, counting(36));
        Path p = tmp.resolve("s.gguf");
        w.write(p);
        assertThat(Files.readAllBytes(p)).isEqualTo(w.toBytes());
        try (GgufFile g = GgufFile.open(p)) {
            assertThat(g.tensor("a").data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 29)).isEqualTo((byte) (29 * 7 + 1));
            assertThat(g.tensor("b").byteSize()).isEqualTo(36);
            assertThat(g.tensor("z").data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).containsOnly((byte) 0);
        }
    }

    @Test
    void producerWithWrongByteCountFailsNamingTheTensor() {
        GgufWriter w = GgufWriter.create().addTensor("short", DType.F32, new long[]{4}, counting(12));
        Path p = tmp.resolve("bad.gguf");
        assertThatThrownBy(() -> w.write(p)).isInstanceOf(IOException.class).hasMessageContaining("short");
        assertThat(tmp.toFile().list()).isEmpty();
    }
}
