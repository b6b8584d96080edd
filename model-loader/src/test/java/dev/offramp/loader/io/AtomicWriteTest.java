package dev.offramp.loader.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AtomicWriteTest {

    @Test
    void failedBodyLeavesTheOldFileAndNoTempFile(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("model.gguf");
        Files.writeString(target, "the user's file");
        assertThatThrownBy(() -> AtomicWrite.write(target, ch -> {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            throw new IOException("disk full");
        })).isInstanceOf(IOException.class).hasMessage("disk full");
        assertThat(Files.readString(target)).isEqualTo("the user's file");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(target);
        }
    }

    @Test
    void replacesTheFileWhole_andLeavesItReadableByOthers(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("sub/out.safetensors");
        AtomicWrite.write(target, new byte[] {7, 8, 9});
        assertThat(Files.readAllBytes(target)).containsExactly(7, 8, 9);
        AtomicWrite.write(target, new byte[] {1});
        assertThat(Files.readAllBytes(target)).containsExactly(1);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-r--r--");
    }
}
