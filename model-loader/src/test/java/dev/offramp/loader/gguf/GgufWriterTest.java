package dev.offramp.loader.gguf;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufWriterTest {

    @TempDir
    Path tmp;

    @Test
    void roundTripsStories260K() throws Exception {
        Path src = Fixtures.model("stories260K.gguf");
        Path out = tmp.resolve("copy.gguf");
        try (GgufFile a = GgufFile.open(src)) {
            GgufWriter.copyOf(a).write(out);
            try (GgufFile b = GgufFile.open(out)) {
                assertThat(b.version()).isEqualTo(a.version());
                assertThat(b.metadata().entries()).isEqualTo(a.metadata().entries());
                assertThat(b.tensors().keySet()).containsExactlyElementsOf(a.tensors().keySet());
                for (Tensor ta : a.tensors().values()) {
                    Tensor tb = b.tensor(ta.name());
                    assertThat(tb.type()).isEqualTo(ta.type());
                    assertThat(tb.shape()).isEqualTo(ta.shape());
                    assertThat(tb.data().mismatch(ta.data())).as(ta.name()).isEqualTo(-1L);
                }
            }
        }
        // the original was written with the same layout rules, so even the bytes agree
        assertThat(Files.mismatch(src, out)).isEqualTo(-1L);
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("copy.gguf");
        }
    }

    @Test
    void everyValueTypeRoundTripsInV2AndV3() throws Exception {
        for (int version : new int[] {2, 3}) {
            GgufArray nested = new GgufArray(GgufValueType.ARRAY, new GgufArray[] {
                    GgufArray.ofInt32s(1, 2, 3), new GgufArray(GgufValueType.ARRAY, new GgufArray[] {GgufArray.ofStrings("x")}),
                    GgufArray.ofStrings()});
            GgufWriter w = GgufWriter.create().version(version)
                    .put("u8", GgufValue.uint8(250)).put("i8", GgufValue.int8(-5))
                    .put("u16", GgufValue.uint16(65000)).put("i16", GgufValue.int16(-300))
                    .put("u32", GgufValue.uint32(4_000_000_000L)).put("i32", GgufValue.int32(-7))
                    .put("u64", GgufValue.uint64(-1L)).put("i64", GgufValue.int64(Long.MIN_VALUE))
                    .put("f32", GgufValue.float32(1.5f)).put("f64", GgufValue.float64(-2.25))
                    .put("bool", GgufValue.bool(true)).put("str", GgufValue.string("héllo ✓"))
                    .put("a.u8", GgufValue.array(new GgufArray(GgufValueType.UINT8, new byte[] {1, (byte) 255})))
                    .put("a.i16", GgufValue.array(new GgufArray(GgufValueType.INT16, new short[] {-1, 2})))
                    .put("a.u64", GgufValue.array(new GgufArray(GgufValueType.UINT64, new long[] {1, -1})))
                    .put("a.f64", GgufValue.array(new GgufArray(GgufValueType.FLOAT64, new double[] {0.5})))
                    .put("a.bool", GgufValue.array(new GgufArray(GgufValueType.BOOL, new boolean[] {true, false})))
                    .put("a.f32", GgufValue.array(GgufArray.ofFloats(1f, Float.NaN)))
                    .put("a.nested", GgufValue.array(nested))
                    .alignment(64)
                    .addTensor("t.f32", DType.F32, new long[] {2, 3}, MemorySegment.ofArray(new float[] {1, 2, 3, 4, 5, 6}))
                    .addTensor("t.q8", DType.Q8_0, new long[] {1, 32}, MemorySegment.ofArray(new byte[34]))
                    .addZeroTensor("t.zero", DType.F16, new long[] {5});
            byte[] image = w.toBytes();
            try (GgufFile g = GgufFile.open(image, "mem.gguf")) {
                GgufMetadata md = g.metadata();
                assertThat(g.version()).isEqualTo(version);
                assertThat(g.alignment()).isEqualTo(64);
                assertThat(md.getInt("u8")).isEqualTo(250);
                assertThat(md.getInt("i8")).isEqualTo(-5);
                assertThat(md.getInt("u16")).isEqualTo(65000);
                assertThat(md.getInt("i16")).isEqualTo(-300);
                assertThat(md.getLong("u32")).isEqualTo(4_000_000_000L);
                assertThatThrownBy(() -> md.getInt("u32")).hasMessageContaining("does not fit");
                assertThatThrownBy(() -> md.getLong("u64")).hasMessageContaining("too large");
                assertThat(md.get("u64").asLong()).isEqualTo(-1L);
                assertThat(md.getLong("i64")).isEqualTo(Long.MIN_VALUE);
                assertThat(md.getFloat("f32")).isEqualTo(1.5f);
                assertThat(md.getDouble("f64")).isEqualTo(-2.25);
                assertThat(md.getBool("bool")).isTrue();
                assertThat(md.getString("str")).isEqualTo("héllo ✓");
                assertThat(md.getIntArray("a.u8")).containsExactly(1, 255);
                assertThat(md.getIntArray("a.i16")).containsExactly(-1, 2);
                assertThatThrownBy(() -> md.getIntArray("a.u64")).hasMessageContaining("a.u64");
                assertThat(md.getFloatArray("a.f32")[1]).isNaN();
                assertThat(md.getArray("a.nested")).isEqualTo(nested);
                assertThat(md.getArray("a.bool").values()).isEqualTo(new boolean[] {true, false});
                assertThat(md.getArray("a.f64").getDouble(0)).isEqualTo(0.5);
                Tensor t = g.tensor("t.f32");
                assertThat(t.shape()).containsExactly(2, 3);
                assertThat(t.data().get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * 5)).isEqualTo(6f);
                assertThat(g.tensor("t.zero").byteSize()).isEqualTo(10);
                assertThat(g.tensorInfos()).allSatisfy(i -> assertThat(i.fileOffset() % 64).isZero());
                // the same image through the file path
                Path f = tmp.resolve("v" + version + ".gguf");
                w.write(f);
                assertThat(Files.readAllBytes(f)).isEqualTo(image);
                try (GgufFile h = GgufFile.open(f)) {
                    assertThat(h.metadata().entries()).isEqualTo(md.entries());
                }
            }
        }
    }

    @Test
    void splitModelLoadsAsOneAndMissingShardIsNamed() throws Exception {
        for (int i = 0; i < 3; i++) {
            GgufWriter w = GgufWriter.create()
                    .put("split.no", GgufValue.uint16(i)).put("split.count", GgufValue.uint16(3))
                    .put("split.tensors.count", GgufValue.int32(3));
            if (i == 0) {
                w.put("general.architecture", GgufValue.string("llama"));
            }
            w.addTensor("t" + i, DType.F32, new long[] {4}, MemorySegment.ofArray(new float[] {i, i, i, i}));
            w.write(tmp.resolve(String.format("m-%05d-of-00003.gguf", i + 1)));
        }
        for (int i = 1; i <= 3; i++) {
            try (GgufFile g = GgufFile.open(tmp.resolve(String.format("m-%05d-of-00003.gguf", i)))) {
                assertThat(g.tensors().keySet()).containsExactly("t0", "t1", "t2");
                assertThat(g.paths()).hasSize(3);
                assertThat(g.metadata().getString("general.architecture")).isEqualTo("llama");
                assertThat(g.tensor("t2").data().get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0)).isEqualTo(2f);
            }
        }
        Files.delete(tmp.resolve("m-00002-of-00003.gguf"));
        assertThatThrownBy(() -> GgufFile.open(tmp.resolve("m-00001-of-00003.gguf")))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("m-00002-of-00003.gguf").hasMessageContaining("missing");
    }

    @Test
    void rejectsBadAlignment() {
        assertThatThrownBy(() -> GgufWriter.create().alignment(48)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> GgufWriter.create().put("general.alignment", GgufValue.int32(32)))
                .hasMessageContaining("UINT32");
        assertThat(Map.of()).isEmpty();
    }

    @Test
    void rejectsWhatGgufOrLlamaCppCannotHold() {
        assertThatThrownBy(() -> GgufWriter.create().addTensor("x", DType.F8_E4M3, new long[] {4}, MemorySegment.ofArray(new byte[4])))
                .hasMessageContaining("not a ggml type");
        String longName = "exit." + "x".repeat(60) + ".weight";
        assertThatThrownBy(() -> GgufWriter.create().addZeroTensor(longName, DType.F32, new long[] {4}))
                .hasMessageContaining(longName).hasMessageContaining("63 bytes");
        GgufWriter.create().addZeroTensor("n".repeat(63), DType.F32, new long[] {4});
    }
}
