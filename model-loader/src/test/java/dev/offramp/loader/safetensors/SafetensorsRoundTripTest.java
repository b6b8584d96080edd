package dev.offramp.loader.safetensors;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class SafetensorsRoundTripTest {

    @TempDir
    Path tmp;

    static Tensor random(String name, DType type, Random rnd, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        byte[] bytes = new byte[(int) type.bytesFor(n)];
        rnd.nextBytes(bytes);
        return new Tensor(name, type, shape, MemorySegment.ofArray(bytes));
    }

    @Test
    void readsSharedHfFixture() throws IOException {
        Path file = Fixtures.model("derived/stories260K-hf/model.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, Tensor> t = f.tensors();
            // 5 layers x 9 tensors + embedding + final norm; tied, so no lm_head.
            assertThat(t).hasSize(47);
            Tensor emb = t.get("model.embed_tokens.weight");
            assertThat(emb.type()).isEqualTo(DType.F32);
            assertThat(emb.shape()).containsExactly(512, 64);
            assertThat(t.get("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(32, 64);
            assertThat(t.get("model.layers.4.mlp.down_proj.weight").shape()).containsExactly(64, 172);
            assertThat(t).doesNotContainKey("lm_head.weight");
            // RMSNorm weights of a trained model are finite and not all zero: the view points at real data.
            Tensor norm = t.get("model.norm.weight");
            float sum = 0;
            for (int i = 0; i < 64; i++) {
                float v = norm.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i);
                assertThat(Float.isFinite(v)).isTrue();
                sum += Math.abs(v);
            }
            assertThat(sum).isGreaterThan(1f);
        }
    }

    @Test
    void everyDtypeRoundTripsBitExactly() throws IOException {
        Random rnd = new Random(42);
        List<Tensor> in = new ArrayList<>();
        DType[] types = {DType.F64, DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2,
                DType.I64, DType.I32, DType.I16, DType.I8, DType.U8};
        for (DType t : types) {
            in.add(random("t." + t, t, rnd, 3, 5));
        }
        in.add(random("scalar", DType.F32, rnd));
        in.add(random("empty", DType.F16, rnd, 0, 7));
        in.add(random("cube", DType.BF16, rnd, 2, 3, 7));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "ünïcode \"quoted\"");
        Path out = tmp.resolve("rt.safetensors");
        SafetensorsWriter.write(out, meta, in);

        byte[] raw = Files.readAllBytes(out);
        long headerLen = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat((8 + headerLen) % 8).isZero();
        try (var files = Files.list(tmp)) {
            assertThat(files.toList()).containsExactly(out); // no temp file left behind
        }

        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertThat(f.metadata()).isEqualTo(meta);
            assertThat(f.tensors().keySet()).containsExactlyElementsOf(in.stream().map(Tensor::name).toList());
            for (Tensor t : in) {
                Tensor r = f.tensors().get(t.name());
                assertThat(r.type()).isEqualTo(t.type());
                assertThat(r.shape()).isEqualTo(t.shape());
                assertThat(r.data().mismatch(t.data())).as(t.name()).isEqualTo(-1L);
            }
        }
    }

    @Test
    void fixtureRewrittenIsIdenticalTensorByTensor() throws IOException {
        Path file = Fixtures.model("derived/stories260K-hf/model.safetensors");
        Path out = tmp.resolve("copy.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            SafetensorsWriter.write(out, f.metadata(), f.tensors().values());
            try (SafetensorsFile g = SafetensorsFile.open(out)) {
                assertThat(g.metadata()).isEqualTo(f.metadata());
                assertThat(g.tensors().keySet()).isEqualTo(f.tensors().keySet());
                for (Tensor t : f.tensors().values()) {
                    assertThat(g.tensors().get(t.name()).data().mismatch(t.data())).isEqualTo(-1L);
                }
            }
        }
    }

    @Test
    void overwritesExistingTargetAtomically() throws IOException {
        Path out = tmp.resolve("x.safetensors");
        Files.writeString(out, "old");
        Random rnd = new Random(1);
        SafetensorsWriter.write(out, Map.of(), List.of(random("a", DType.F32, rnd, 4)));
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertThat(f.tensors()).containsOnlyKeys("a");
        }
    }

    @Test
    void producerWritingTheWrongByteCountFailsAndLeavesNoFile() {
        Path out = tmp.resolve("bad.safetensors");
        var e = new SafetensorsWriter.Entry("w", DType.F32, new long[]{4},
                ch -> ch.write(ByteBuffer.allocate(12)));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SafetensorsWriter.write(out, Map.of(), List.of(e)))
                .isInstanceOf(IOException.class).hasMessageContaining("'w'");
        assertThat(Files.exists(out)).isFalse();
        assertThat(tmp.toFile().list()).isEmpty();
    }
}
