package dev.offramp.loader.quant;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;
import dev.offramp.core.tensor.quant.Quantize;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Our reference codecs against ggml's own output: {@code quant.<type>} rows were quantized by ggml from
 * {@code source.f32}, and {@code dequant.<type>} is ggml's dequantization of them. Every element must
 * match bit for bit, and our reference quantizers must reproduce ggml's bytes exactly.
 */
class GgmlQuantVectorsTest {
    private static GgufFile file;

    @BeforeAll
    static void open() throws Exception {
        file = GgufFile.open(Fixtures.model("derived/ggml-quant-vectors.gguf"));
    }

    @AfterAll
    static void close() {
        if (file != null) {
            file.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void dequantizesBitExactlyLikeGgml(DType type) {
        String name = type.name().toLowerCase(Locale.ROOT);
        Tensor q = file.tensor("quant." + name);
        Tensor expected = file.tensor("dequant." + name);
        assertThat(q.type()).isEqualTo(type);
        assertThat(expected.type()).isEqualTo(DType.F32);
        int rows = (int) q.rows();
        int cols = (int) q.cols();
        assertThat(rows).isEqualTo(32);
        assertThat(cols).isEqualTo(256);

        float[] want = Dequantize.all(DType.F32, expected.data(), rows * cols);
        // Row by row, as kernels and loaders call it, at each row's own byte offset.
        float[] got = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            Dequantize.row(type, q.data(), r * q.rowBytes(), got, r * cols, cols);
        }
        int mismatches = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                if (mismatches++ < 5) {
                    first.append(String.format(Locale.ROOT, "%n  [row %d, col %d] ggml %s (0x%08x), ours %s (0x%08x)",
                            i / cols, i % cols, want[i], Float.floatToRawIntBits(want[i]), got[i],
                            Float.floatToRawIntBits(got[i])));
                }
            }
        }
        if (mismatches > 0) {
            fail(type + ": " + mismatches + " of " + want.length + " values differ from ggml" + first);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"})
    void quantizesToGgmlsBytes(DType type) {
        String name = type.name().toLowerCase(Locale.ROOT);
        Tensor source = file.tensor("source.f32");
        Tensor q = file.tensor("quant." + name);
        int n = (int) source.elementCount();
        float[] x = Dequantize.all(DType.F32, source.data(), n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(type.bytesFor(n));
            int cols = (int) source.cols();
            for (int r = 0; r < source.rows(); r++) {
                Quantize.row(type, x, r * cols, out, r * type.bytesFor(cols), cols);
            }
            byte[] ours = out.toArray(ValueLayout.JAVA_BYTE);
            byte[] ggml = q.data().toArray(ValueLayout.JAVA_BYTE);
            for (int i = 0; i < ggml.length; i++) {
                if (ours[i] != ggml[i]) {
                    fail(type + ": byte " + i + " (block " + i / type.blockBytes() + ", offset "
                            + i % type.blockBytes() + ") is " + (ours[i] & 0xFF) + ", ggml wrote " + (ggml[i] & 0xFF));
                }
            }
        }
    }

    @Test
    void bf16RoundTripsAndWidensBySixteenBitShift() {
        // The fixture has no BF16 tensor; ggml's BF16 is the top half of an F32, so check that
        // definition directly on the source rows, including rounding-to-nearest-even of the dropped half.
        Tensor source = file.tensor("source.f32");
        int n = (int) source.elementCount();
        float[] x = Dequantize.all(DType.F32, source.data(), n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bf = arena.allocate(DType.BF16.bytesFor(n));
            Quantize.row(DType.BF16, x, 0, bf, 0, n);
            float[] back = Dequantize.all(DType.BF16, bf, n);
            for (int i = 0; i < n; i++) {
                int bits = Float.floatToRawIntBits(x[i]);
                int rounded = (bits + 0x7FFF + ((bits >>> 16) & 1)) & 0xFFFF0000;
                assertThat(Float.floatToRawIntBits(back[i])).as("element %d", i).isEqualTo(rounded);
            }
        }
    }

    @Test
    void f16WidensSpecialValuesExactly() {
        short[] halves = {0x0000, (short) 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0x7C00, (short) 0xFC00, 0x7E00};
        float[] want = {0f, -0f, 5.9604645e-8f, 6.0975552e-5f, 6.1035156e-5f, 1f, 65504f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        MemorySegment s = MemorySegment.ofArray(halves);
        float[] got = Dequantize.all(DType.F16, s, halves.length);
        for (int i = 0; i < halves.length; i++) {
            assertThat(Float.floatToIntBits(got[i])).as("half 0x%04x", halves[i] & 0xFFFF)
                    .isEqualTo(Float.floatToIntBits(want[i]));
        }
    }
}
