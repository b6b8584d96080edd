package dev.offramp.loader.gguf;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Opening maps the file: a 1 GiB tensor opens in well under a second and costs (almost) no heap. */
class GgufZeroCopyTest {

    private static final long ROWS = 16384;
    private static final long COLS = 16384; // 16384 x 16384 F32 = 1 GiB

    @TempDir
    Path tmp;

    @Test
    void oneGibTensorOpensWithoutCopying() throws Exception {
        Path file = tmp.resolve("big.gguf");
        // zero tensors are file holes: nothing is written element by element, the file is sparse
        GgufWriter.create()
                .put("general.architecture", GgufValue.string("synthetic"))
                .addZeroTensor("big.weight", DType.F32, new long[] {ROWS, COLS})
                .write(file);
        assertThat(Files.size(file)).isGreaterThan(1L << 30);

        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        // warm the classes up on a small file so the measurement sees only the mapping
        Path small = tmp.resolve("small.gguf");
        GgufWriter.create().addZeroTensor("s", DType.F32, new long[] {8}).write(small);
        try (GgufFile g = GgufFile.open(small)) {
            assertThat(g.tensors()).hasSize(1);
        }
        System.gc();
        long heapBefore = mem.getHeapMemoryUsage().getUsed();
        long t0 = System.nanoTime();
        try (GgufFile g = GgufFile.open(file)) {
            long openNanos = System.nanoTime() - t0;
            Tensor t = g.tensor("big.weight");
            System.gc();
            long heapDelta = mem.getHeapMemoryUsage().getUsed() - heapBefore;
            assertThat(t.byteSize()).isEqualTo(ROWS * COLS * 4);
            assertThat(t.data().isMapped()).isTrue();
            assertThat(t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, t.byteSize() - 4)).isZero();
            assertThat(openNanos).as("open time (ns)").isLessThan(500_000_000L);
            assertThat(heapDelta).as("heap growth (bytes)").isLessThan(4L << 20);
            System.getLogger(getClass().getName()).log(System.Logger.Level.INFO,
                    "1 GiB GGUF: open " + openNanos / 1000 + " us, heap delta " + heapDelta + " bytes");
        }
    }
}
