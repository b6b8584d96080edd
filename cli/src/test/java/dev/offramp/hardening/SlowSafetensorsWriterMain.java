package dev.offramp.hardening;

import dev.offramp.core.tensor.DType;
import dev.offramp.loader.safetensors.SafetensorsWriter;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Child-JVM helper of {@link InterruptedWriteTest}: writes a 64 MiB safetensors file slowly (1 MiB
 * every 20 ms), so the parent can kill it in the middle of the write.
 */
public final class SlowSafetensorsWriterMain {
    public static void main(String[] args) throws Exception {
        Path dest = Path.of(args[0]);
        int mib = 64;
        SafetensorsWriter.write(dest, Map.of("writer", "slow"), List.of(new SafetensorsWriter.Entry("w", DType.F32,
                new long[] {mib, 1 << 18}, out -> {
                    ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
                    for (int i = 0; i < mib; i++) {
                        chunk.clear();
                        while (chunk.hasRemaining()) {
                            out.write(chunk);
                        }
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                })));
    }
}
