package dev.offramp.loader.safetensors;

import dev.offramp.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Opening maps: a sparse file with a 1 GiB tensor opens fast and leaves the heap (almost) untouched. */
class SafetensorsZeroCopyTest {

    @TempDir
    Path tmp;

    @Test
    void oneGibTensorIsAViewNotACopy() throws Exception {
        long bytes = 1L << 30;
        String json = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[16384,32768],\"data_offsets\":[0," + bytes + "]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        Path file = tmp.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length).array());
            raf.write(header);
            raf.setLength(8 + header.length + bytes); // a hole: nothing is written
        }
        try (SafetensorsFile warm = SafetensorsFile.open(file)) {
            assertThat(warm.tensors()).hasSize(1); // load the classes before measuring
        }
        var mem = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = mem.getHeapMemoryUsage().getUsed();
        long t0 = System.nanoTime();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            long nanos = System.nanoTime() - t0;
            Tensor t = f.tensors().get("w");
            System.gc();
            long delta = mem.getHeapMemoryUsage().getUsed() - before;
            assertThat(t.byteSize()).isEqualTo(bytes);
            assertThat(t.data().isMapped()).isTrue();
            assertThat(t.data().get(ValueLayout.JAVA_SHORT_UNALIGNED, bytes - 2)).isZero();
            assertThat(nanos).as("open (ns)").isLessThan(500_000_000L);
            assertThat(delta).as("heap growth (bytes)").isLessThan(4L << 20);
        }
    }
}
