package dev.offramp.e2e;

import dev.offramp.core.LoadOptions;
import dev.offramp.core.Models;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.generate.Generation;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.Session;
import dev.offramp.core.generate.SessionOptions;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;
import dev.offramp.core.tensor.quant.Fp8E4M3;
import dev.offramp.core.tensor.quant.Fp8Weights;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.testing.ReferenceLlama;
import dev.offramp.loader.quantize.CompressedTensorsQuantizer;
import dev.offramp.loader.quantize.CompressedTensorsQuantizer.Scheme;
import dev.offramp.loader.safetensors.SafetensorsCheckpoint;
import dev.offramp.loader.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FP8 and INT4 HF folders (what {@code offramp quantize -t FP8|INT4} writes, and a published-style
 * FP8 folder with 128x128-block {@code weight_scale_inv}) load through the HF reader and generate:
 * greedy text vs llama.cpp's F32 golden for stories-ee12 (leading tokens that must agree, measured),
 * and one forward's logits vs a float64 evaluation of the same (dequantized) weights.
 */
class QuantizedHfGenerateTest {
    static final String PROMPT = "Once upon a time";

    @TempDir
    static Path tmp;
    static Path fp8;
    static Path int4;
    static Path fp8Blocks;
    static Path tokenizer;

    @BeforeAll
    static void quantize() throws IOException {
        Path hf = Fixtures.model("trained/stories-ee12-hf");
        tokenizer = Fixtures.model("trained/stories-ee12-F32.gguf");
        fp8 = tmp.resolve("fp8");
        int4 = tmp.resolve("int4");
        fp8Blocks = tmp.resolve("fp8-blocks");
        CompressedTensorsQuantizer.write(hf, fp8, Scheme.FP8);
        CompressedTensorsQuantizer.write(hf, int4, Scheme.INT4);
        writeBlockScaledFp8(hf, fp8Blocks);
    }

    /** The DeepSeek-V3 layout: every linear weight F8_E4M3 plus F32 weight_scale_inv, one per 128x128 block. */
    static void writeBlockScaledFp8(Path hf, Path dst) throws IOException {
        Files.createDirectories(dst);
        Files.copy(hf.resolve("config.json"), dst.resolve("config.json"));
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(hf); Arena arena = Arena.ofConfined()) {
            List<Tensor> out = new ArrayList<>();
            for (Tensor t : ckpt.tensors().values()) {
                boolean linear = t.rank() == 2 && (t.name().contains(".self_attn.") || t.name().contains(".mlp."));
                if (!linear) {
                    out.add(t);
                    continue;
                }
                int rows = (int) t.dim(0);
                int cols = (int) t.dim(1);
                float[][] w = new float[rows][cols];
                for (int r = 0; r < rows; r++) {
                    Dequantize.row(t.type(), t.data(), r * t.rowBytes(), w[r], 0, cols);
                }
                long[] ss = Fp8Weights.blockScaleShape(rows, cols);
                int br = (int) ss[0];
                int bc = (int) ss[1];
                float[] s = new float[br * bc];
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        int b = (r / 128) * bc + c / 128;
                        s[b] = Math.max(s[b], Math.abs(w[r][c]) / Fp8E4M3.MAX);
                    }
                }
                MemorySegment q = arena.allocate((long) rows * cols);
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        float sc = s[(r / 128) * bc + c / 128];
                        q.set(ValueLayout.JAVA_BYTE, (long) r * cols + c, Fp8E4M3.encode(sc == 0 ? 0 : w[r][c] / sc));
                    }
                }
                MemorySegment sm = arena.allocate(4L * s.length);
                for (int i = 0; i < s.length; i++) {
                    sm.set(f32, 4L * i, s[i]);
                }
                out.add(new Tensor(t.name(), DType.F8_E4M3, t.shape(), q));
                out.add(new Tensor(t.name() + "_scale_inv", DType.F32, new long[] {br, bc}, sm));
            }
            SafetensorsWriter.write(dst.resolve("model.safetensors"), Map.of("format", "pt"), out);
        }
    }

    /** How many leading generated tokens reproduce llama.cpp's F32 greedy text (of 110: past every divergence below). */
    static int agreeingTokens(Path model) throws IOException {
        String golden = StoriesEe12GoldenTest.golden();
        try (Generator g = Models.load(model, LoadOptions.defaults().withTokenizer(tokenizer));
             Session s = g.newSession(SessionOptions.defaults().withContextLength(512))) {
            Generation r = s.generate(PROMPT, GenerateOptions.greedy(110), null);
            int[] toks = r.tokens();
            int k = 0;
            while (k < toks.length && golden.startsWith(PROMPT + g.tokenizer().decode(Arrays.copyOf(toks, k + 1), false))) {
                k++;
            }
            return k;
        }
    }

    @Test
    void fp8GeneratesTheF32GoldenText() throws IOException {
        assertThat(agreeingTokens(fp8)).isGreaterThanOrEqualTo(FP8_MIN);
    }

    @Test
    void blockScaledFp8GeneratesTheF32GoldenText() throws IOException {
        assertThat(agreeingTokens(fp8Blocks)).isGreaterThanOrEqualTo(FP8_BLOCK_MIN);
    }

    @Test
    void int4GeneratesTheGoldenPrefix() throws IOException {
        assertThat(agreeingTokens(int4)).isGreaterThanOrEqualTo(INT4_MIN);
    }

    // Measured (AVX2 and AVX-512 kernels alike are batch-invariant; the divergence point is where two
    // logits nearly tie): per-row FP8 102 of the golden's 150 tokens, 128x128-block FP8 102, INT4 group-128 42.
    // Q8_0's GGUF reaches 130 (StoriesEe12GoldenTest). A little slack for other SIMD widths.
    static final int FP8_MIN = 100;
    static final int FP8_BLOCK_MIN = 100;
    static final int INT4_MIN = 40;

    @Test
    void loadsAsOneGroupScaledTensorPerWeight() throws IOException {
        try (ModelSource a = Models.open(fp8, tokenizer); ModelSource b = Models.open(int4, tokenizer);
             ModelSource c = Models.open(fp8Blocks, tokenizer)) {
            assertThat(a.tensors().get("blk.3.ffn_down.weight").type()).isEqualTo(DType.F8_E4M3_G128);
            assertThat(c.tensors().get("blk.3.ffn_down.weight").type()).isEqualTo(DType.F8_E4M3_G128);
            Tensor q4 = b.tensors().get("blk.3.ffn_down.weight");
            assertThat(q4.type()).isEqualTo(DType.I4_G128);
            assertThat(q4.shape()).containsExactly(256, 768);
            assertThat(b.tensors()).doesNotContainKey("blk.3.ffn_down.weight_scale").hasSameSizeAs(a.tensors());
            assertThat(a.tensors().get("token_embd.weight").type()).isEqualTo(DType.F32);
        }
    }

    @Test
    void aMissingScaleIsAClearErrorNamingTheTensor() throws IOException {
        Path broken = tmp.resolve("fp8-no-scale");
        Files.createDirectories(broken);
        Files.copy(fp8.resolve("config.json"), broken.resolve("config.json"));
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(fp8)) {
            List<Tensor> keep = ckpt.tensors().values().stream()
                    .filter(t -> !t.name().equals("model.layers.2.mlp.up_proj.weight_scale")).toList();
            SafetensorsWriter.write(broken.resolve("model.safetensors"), Map.of("format", "pt"), keep);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Models.open(broken, tokenizer).close())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("model.layers.2.mlp.up_proj.weight").hasMessageContaining("_scale_inv");
    }

    @Test
    void logitsAgreeWithFloat64OfTheDequantizedWeights() throws Exception {
        for (Path p : List.of(fp8, int4, fp8Blocks)) {
            try (ModelSource src = Models.open(p, tokenizer); Backend cpu = Models.backend("cpu", 2)) {
                LlamaModel m = LlamaModel.bind(src.config(), src.tensors(), cpu);
                float[] got = LogitsReferenceTest.allLogits(m, LogitsReferenceTest.TOKENS, 5);
                double[][] ref = new ReferenceLlama(src.config(), src.tensors()).logits(LogitsReferenceTest.TOKENS);
                double ratio = LogitsReferenceTest.worstRatio(got, ref, src.config().vocabSize());
                assertThat(ratio).as(p.getFileName().toString()).isBetween(0.0, 1e-4);
            }
        }
    }
}
