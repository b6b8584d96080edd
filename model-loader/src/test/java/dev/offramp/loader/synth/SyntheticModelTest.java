package dev.offramp.loader.synth;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.model.ExitPlan;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;
import dev.offramp.kernels.cpu.CpuBackend;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufModelConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SyntheticModelTest {

    @TempDir
    Path tmp;

    static final SynthShape TINY = new SynthShape("tiny", 64, 4, 4, 2, 96, 256, 128, 10000f, 1e-5f, false,
            SynthVocab.NONE, false);

    static float[] floats(Tensor t) {
        return Dequantize.all(t.type(), t.data(), Math.toIntExact(t.elementCount()));
    }

    private Path write(SynthOptions o, String name) throws IOException {
        Path p = tmp.resolve(name);
        SyntheticModel.write(o, p);
        return p;
    }

    @Test
    void tinyF32FileMatchesItsPlanAndConfig() throws IOException {
        SynthOptions o = SynthOptions.of(TINY, DType.F32).withSeed(3);
        Path p = write(o, "tiny.gguf");
        SynthPlan plan = SyntheticModel.plan(o);
        try (GgufFile g = GgufFile.open(p)) {
            assertThat(g.tensors().keySet()).containsExactlyElementsOf(plan.tensors().stream().map(PlannedTensor::name).toList());
            for (PlannedTensor t : plan.tensors()) {
                Tensor x = g.tensor(t.name());
                assertThat(x.type()).isEqualTo(t.type());
                assertThat(x.shape()).isEqualTo(t.shape());
            }
            ModelConfig c = GgufModelConfigs.from(g);
            assertThat(c).isEqualTo(plan.config());
            assertThat(g.metadata().getString("offramp.synth.shape")).isEqualTo("tiny");
            float[] norm = floats(g.tensor("blk.1.ffn_norm.weight"));
            assertThat(norm).containsOnly(1f);
            float[] wq = floats(g.tensor("blk.0.attn_q.weight"));
            double sum2 = 0;
            for (float v : wq) {
                assertThat(Math.abs(v)).isLessThanOrEqualTo(0.035f);
                sum2 += v * v;
            }
            assertThat(Math.sqrt(sum2 / wq.length)).isBetween(0.018, 0.022);
        }
        try (var files = Files.list(tmp)) {
            assertThat(files.toList()).containsExactly(p);
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
        SynthOptions o = SynthOptions.of(TINY, DType.Q4_0).withSeed(11);
        byte[] a = Files.readAllBytes(write(o, "a.gguf"));
        byte[] b = Files.readAllBytes(write(o, "b.gguf"));
        byte[] c = Files.readAllBytes(write(o.withSeed(12), "c.gguf"));
        assertThat(a).isEqualTo(b);
        assertThat(Arrays.equals(a, c)).isFalse();
    }

    /** Every type holds the same underlying values, quantized by the reference quantizer. */
    @Test
    void everyTypeQuantizesTheSameValues() throws IOException {
        Path f32 = write(SynthOptions.of(TINY, DType.F32).withSeed(5), "f32.gguf");
        try (GgufFile ref = GgufFile.open(f32)) {
            for (DType t : new DType[]{DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0}) {
                Path p = write(SynthOptions.of(TINY, t).withSeed(5), t + ".gguf");
                try (GgufFile g = GgufFile.open(p)) {
                    for (String name : new String[]{"token_embd.weight", "blk.2.ffn_down.weight", "output.weight"}) {
                        Tensor x = g.tensor(name);
                        DType expected = name.equals("output.weight") && t == DType.Q4_0 ? DType.Q8_0 : t;
                        assertThat(x.type()).as(t + " " + name).isEqualTo(expected);
                        float[] values = floats(ref.tensor(name));
                        assertThat(x.data().mismatch(encoded(expected, values, x))).as(t + " " + name).isEqualTo(-1L);
                    }
                    assertThat(g.tensor("blk.0.attn_norm.weight").type()).isEqualTo(DType.F32);
                }
            }
        }
    }

    private static MemorySegment encoded(DType type, float[] values, Tensor like) {
        MemorySegment q = MemorySegment.ofArray(new byte[(int) like.byteSize()]);
        int cols = (int) like.cols();
        for (int r = 0; r < like.rows(); r++) {
            WeightStream.encode(type, values, r * cols, q, r * like.rowBytes(), cols);
        }
        return q;
    }

    @Test
    void kQuantsWithFallbackForShortRows() throws IOException {
        SynthShape wide = new SynthShape("wide", 256, 1, 4, 2, 320, 64, 128, 10000f, 1e-5f, false,
                SynthVocab.NONE, false);
        Path f32 = write(SynthOptions.of(wide, DType.F32).withSeed(8), "wide-f32.gguf");
        Path q4k = write(SynthOptions.of(wide, DType.Q4_K).withSeed(8), "wide-q4k.gguf");
        try (GgufFile ref = GgufFile.open(f32); GgufFile g = GgufFile.open(q4k)) {
            String[][] expect = {{"blk.0.attn_q.weight", "Q4_K"}, {"blk.0.ffn_down.weight", "Q5_0"},
                    {"output.weight", "Q6_K"}, {"token_embd.weight", "Q4_K"}};
            for (String[] e : expect) {
                Tensor x = g.tensor(e[0]);
                assertThat(x.type()).as(e[0]).isEqualTo(DType.valueOf(e[1]));
                assertThat(x.data().mismatch(encoded(x.type(), floats(ref.tensor(e[0])), x))).as(e[0]).isEqualTo(-1L);
            }
            assertThat(g.metadata().getInt("general.file_type")).isEqualTo(14);
        }
    }

    @Test
    void inertLayersHaveZeroOutputProjectionsAndLeaveTheResidualUnchanged() throws IOException {
        int inertFrom = 2;
        Path p = write(SynthOptions.of(TINY, DType.F32).withSeed(9).withInertFrom(inertFrom), "inert.gguf");
        try (GgufFile g = GgufFile.open(p); CpuBackend backend = new CpuBackend(1)) {
            for (int l = 0; l < TINY.layers(); l++) {
                for (String w : new String[]{"attn_output", "ffn_down"}) {
                    float[] v = floats(g.tensor("blk." + l + "." + w + ".weight"));
                    if (l >= inertFrom) {
                        assertThat(v).as(l + " " + w).containsOnly(0f);
                    } else {
                        assertThat(v).as(l + " " + w).isNotEqualTo(new float[v.length]);
                    }
                }
            }
            LlamaModel model = LlamaModel.bind(GgufModelConfigs.from(g), g.tensors(), backend);
            int n = 5;
            float[][] hidden = new float[TINY.layers()][n * TINY.dim()];
            try (ForwardState state = model.newState(16, DType.F32, 8)) {
                ExitPlan plan = ExitPlan.full().observedBy((layer, h, start, m) -> {
                    for (int r = 0; r < m; r++) {
                        backend.read(h, r, hidden[layer], (start + r) * TINY.dim());
                    }
                });
                model.forward(state, new int[]{1, 17, 42, 200, 3}, new int[]{0, 1, 2, 3, 4}, n, plan,
                        new int[]{n - 1}, new float[TINY.vocabSize()]);
            }
            assertThat(hidden[inertFrom - 1]).isNotEqualTo(hidden[inertFrom - 2]);
            for (int l = inertFrom; l < TINY.layers(); l++) {
                assertThat(hidden[l]).as("layer " + l).isEqualTo(hidden[inertFrom - 1]);
            }
        }
    }

    @Test
    void badOptionsAreRefused() throws IOException {
        // Q8_K is llama.cpp's activation type: nothing writes it as weights (Q2_K, refused here before,
        // has a quantizer since 2cd1a64).
        assertThatThrownBy(() -> SyntheticModel.plan(SynthOptions.of(TINY, DType.Q8_K)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q8_K");
        // rows of 48 values are no whole Q8_0 blocks: F16, as llama-quantize falls back
        SynthShape odd = new SynthShape("odd", 48, 1, 4, 2, 80, 10, 16, 1e4f, 1e-5f, true, SynthVocab.NONE, false);
        assertThat(SyntheticModel.plan(SynthOptions.of(odd, DType.Q8_0)).tensor("blk.0.attn_q.weight").type())
                .isEqualTo(DType.F16);
        assertThatThrownBy(() -> SynthOptions.of(TINY, DType.F32).withInertFrom(9))
                .isInstanceOf(IllegalArgumentException.class);
        SynthShape named = SynthShape.named("smollm-135m").orElseThrow();
        assertThatThrownBy(() -> SyntheticModel.plan(SynthOptions.of(named, DType.F16)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ggml-vocab-llama-spm.gguf");
    }
}
