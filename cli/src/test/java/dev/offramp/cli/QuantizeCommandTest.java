package dev.offramp.cli;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.LlamaCppPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code offramp quantize} against ggml's own quantization of stories260K (derived/stories260K-Q8_0/Q4_0.gguf). */
class QuantizeCommandTest {

    static int run(StringWriter err, String... args) {
        return run(new StringWriter(), err, args);
    }

    static int run(StringWriter out, StringWriter err, String... args) {
        return OfframpCli.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0"})
    void everyTensorEqualsGgmlsFileBitForBit(String type, @TempDir Path tmp) throws Exception {
        Path src = Fixtures.model("stories260K.gguf");
        Path ref = Fixtures.model("derived/stories260K-" + type + ".gguf");
        Path out = tmp.resolve("q.gguf");
        StringWriter err = new StringWriter();
        StringWriter stdout = new StringWriter();
        assertThat(run(stdout, err, "quantize", src.toString(), out.toString(), "--type", type.toLowerCase(Locale.ROOT)))
                .as(err.toString()).isZero();
        // the tensor table is on stdout; the progress bar went to the process's stderr, never stdout
        assertThat(stdout.toString()).contains("blk.0.ffn_down.weight").contains("-> F16").doesNotContain("%");
        try (GgufFile a = GgufFile.open(out); GgufFile b = GgufFile.open(ref)) {
            assertThat(a.tensors().keySet()).containsExactlyElementsOf(b.tensors().keySet());
            for (Tensor tb : b.tensors().values()) {
                Tensor ta = a.tensor(tb.name());
                assertThat(ta.type()).as(tb.name()).isEqualTo(tb.type());
                assertThat(ta.shape()).as(tb.name()).isEqualTo(tb.shape());
                assertThat(ta.data().toArray(ValueLayout.JAVA_BYTE)).as(tb.name())
                        .isEqualTo(tb.data().toArray(ValueLayout.JAVA_BYTE));
            }
            assertThat(a.metadata().getLong("general.file_type")).isEqualTo(type.equals("Q8_0") ? 7 : 2);
        }
        assertThat(tmp.toFile().list()).containsExactly("q.gguf");
    }

    @Test
    void ourQ8_0LoadsAndGeneratesInLlamaCpp(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("q8.gguf");
        StringWriter err = new StringWriter();
        assertThat(run(err, "quantize", Fixtures.model("stories260K.gguf").toString(), out.toString(), "-t", "Q8_0",
                "--quiet")).as(err.toString()).isZero();
        String ours = LlamaCppPeer.greedy(out, "Once upon a time", 30);
        String ggmls = LlamaCppPeer.greedy(Fixtures.model("derived/stories260K-Q8_0.gguf"), "Once upon a time", 30);
        assertThat(ours).startsWith(", there was a").isEqualTo(ggmls);
    }

    @Test
    void kQuantsFollowLlamaCppsFallbacks(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("k.gguf");
        StringWriter err = new StringWriter();
        assertThat(run(err, "quantize", Fixtures.model("trained/stories-ee12-F32.gguf").toString(), out.toString(),
                "-t", "Q4_K", "--quiet")).as(err.toString()).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            // Tied embeddings: token_embd is the output head -> Q6_K (rows of 256); norms stay F32;
            // ffn_down rows of 768 are whole super-blocks -> Q4_K.
            assertThat(f.tensor("token_embd.weight").type()).isEqualTo(DType.Q6_K);
            assertThat(f.tensor("blk.0.attn_norm.weight").type()).isEqualTo(DType.F32);
            assertThat(f.tensor("blk.0.ffn_down.weight").type()).isEqualTo(DType.Q4_K);
            assertThat(f.tensor("blk.3.attn_q.weight").type()).isEqualTo(DType.Q4_K);
        }
        Path out2 = tmp.resolve("k2.gguf");
        assertThat(run(err, "quantize", Fixtures.model("stories260K.gguf").toString(), out2.toString(),
                "-t", "Q6_K", "--quiet")).isZero();
        try (GgufFile f = GgufFile.open(out2)) {
            // rows of 64 and 172 fit no 256-block: Q6_K -> Q8_0 (64) and Q8_0 -> F16 (172)
            assertThat(f.tensor("blk.0.attn_q.weight").type()).isEqualTo(DType.Q8_0);
            assertThat(f.tensor("blk.0.ffn_down.weight").type()).isEqualTo(DType.F16);
        }
    }

    @Test
    void badInputLeavesNoFile(@TempDir Path tmp) throws Exception {
        Path src = Fixtures.model("stories260K.gguf");
        StringWriter err = new StringWriter();
        assertThat(run(err, "quantize", src.toString(), tmp.resolve("a.gguf").toString(), "-t", "Q3_X")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown weight type 'Q3_X'");
        err.getBuffer().setLength(0);
        assertThat(run(err, "quantize", Fixtures.model("derived/stories260K-Q4_0.gguf").toString(),
                tmp.resolve("b.gguf").toString(), "-t", "Q8_0", "--quiet")).isEqualTo(2);
        assertThat(err.toString()).contains("already Q4_0");
        err.getBuffer().setLength(0);
        Path garbage = tmp.resolve("garbage.gguf");
        Files.write(garbage, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1});
        assertThat(run(err, "quantize", garbage.toString(), tmp.resolve("c.gguf").toString(), "-t", "Q8_0")).isEqualTo(2);
        err.getBuffer().setLength(0);
        Path ro = Files.createDirectory(tmp.resolve("ro"));
        ro.toFile().setWritable(false);
        try {
            int rc = run(err, "quantize", src.toString(), ro.resolve("d.gguf").toString(), "-t", "Q8_0", "--quiet");
            if (!ro.toFile().canWrite()) { // root ignores permissions
                assertThat(rc).isEqualTo(2);
                assertThat(err.toString()).contains("not writable");
            }
        } finally {
            ro.toFile().setWritable(true);
        }
        assertThat(tmp.toFile().list()).containsExactlyInAnyOrder("garbage.gguf", "ro");
    }

    @Test
    void mixedPicksPerLayerTypesWithinTheBudget(@TempDir Path tmp) throws Exception {
        Path src = Fixtures.model("stories260K.gguf");
        Path out = tmp.resolve("mixed.gguf");
        StringWriter stdout = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(run(stdout, err, "quantize", src.toString(), out.toString(), "-t", "Q4_0", "--mixed", "Q8_0",
                "--budget", "Q5_0", "--calibration", Fixtures.model("trained/stories-ee12-valid.txt").toString(),
                "--calibration-ctx", "128", "--calibration-chunks", "1")).as(err.toString()).isZero();
        assertThat(stdout.toString()).contains("sensitivity: blk.4.ffn").contains("mixed: ");
        long budget;
        try (GgufFile s = GgufFile.open(src)) {
            budget = QuantizeCommand.parseBudget(s, "Q5_0");
        }
        try (GgufFile f = GgufFile.open(out)) {
            long bytes = f.tensors().values().stream().mapToLong(Tensor::byteSize).sum();
            assertThat(bytes).isLessThanOrEqualTo(budget);
            // per-tensor choice between the two candidates (ffn_down's rows of 172 fit neither: F16)
            java.util.Set<DType> types = new java.util.HashSet<>();
            for (Tensor t : f.tensors().values()) {
                if (t.rank() == 2 && !t.name().contains("ffn_down")) {
                    types.add(t.type());
                }
            }
            assertThat(types).containsExactlyInAnyOrder(DType.Q4_0, DType.Q8_0);
            assertThat(f.tensor("blk.0.ffn_down.weight").type()).isEqualTo(DType.F16);
        }
    }

    @Test
    void fp8AndInt4WriteCompressedTensorsFoldersThatDecodeCloseToTheSource(@TempDir Path tmp) throws Exception {
        Path hf = Fixtures.model("trained/stories-ee12-hf");
        for (String scheme : new String[] {"FP8", "INT4"}) {
            Path out = tmp.resolve(scheme);
            StringWriter err = new StringWriter();
            assertThat(run(err, "quantize", hf.toString(), out.toString(), "-t", scheme)).as(err.toString()).isZero();
            String cfg = Files.readString(out.resolve("config.json"));
            assertThat(cfg).contains("compressed-tensors").contains(scheme.equals("FP8") ? "float-quantized" : "pack-quantized");
            try (var a = dev.offramp.loader.safetensors.SafetensorsCheckpoint.open(hf);
                 var b = dev.offramp.loader.safetensors.SafetensorsCheckpoint.open(out)) {
                Tensor src = a.tensors().get("model.layers.3.mlp.down_proj.weight");
                int rows = (int) src.dim(0);
                int cols = (int) src.dim(1);
                float[] x = dev.offramp.core.tensor.quant.Dequantize.all(DType.F32, src.data(), rows * cols);
                float[] back = new float[rows * cols];
                if (scheme.equals("FP8")) {
                    Tensor q = b.tensors().get("model.layers.3.mlp.down_proj.weight");
                    Tensor s = b.tensors().get("model.layers.3.mlp.down_proj.weight_scale");
                    assertThat(q.type()).isEqualTo(DType.F8_E4M3);
                    assertThat(s.shape()).containsExactly(rows, 1);
                    for (int r = 0; r < rows; r++) {
                        dev.offramp.core.tensor.quant.Fp8Weights.dequantizeRowPerRow(q.data(), s.data(), r, cols, back, r * cols);
                    }
                } else {
                    Tensor p = b.tensors().get("model.layers.3.mlp.down_proj.weight_packed");
                    Tensor s = b.tensors().get("model.layers.3.mlp.down_proj.weight_scale");
                    assertThat(p.type()).isEqualTo(DType.I32);
                    assertThat(p.shape()).containsExactly(rows, cols / 8);
                    assertThat(s.shape()).containsExactly(rows, cols / 128);
                    assertThat(b.tensors().get("model.layers.3.mlp.down_proj.weight_shape").type()).isEqualTo(DType.I64);
                    float[] sc = dev.offramp.core.tensor.quant.Dequantize.all(DType.F32, s.data(), rows * cols / 128);
                    for (int r = 0; r < rows; r++) {
                        dev.offramp.core.tensor.quant.Int4PackQuantized.dequantizeRow(p.data(), (long) r * cols / 2, cols, 128,
                                sc, r * (cols / 128), back, r * cols);
                    }
                }
                double e = 0;
                double n = 0;
                for (int i = 0; i < x.length; i++) {
                    e += (x[i] - back[i]) * (double) (x[i] - back[i]);
                    n += x[i] * (double) x[i];
                }
                double rel = Math.sqrt(e / n);
                System.err.printf("%s relative RMS error of down_proj: %.4f%n", scheme, rel);
                assertThat(rel).isLessThan(scheme.equals("FP8") ? 0.04 : 0.15).isGreaterThan(0);
                // embeddings and norms untouched
                assertThat(b.tensors().get("model.embed_tokens.weight").type()).isEqualTo(DType.F32);
            }
        }
        StringWriter err = new StringWriter();
        assertThat(run(err, "quantize", hf.toString(), tmp.resolve("FP8").toString(), "-t", "fp8")).isEqualTo(2);
        assertThat(err.toString()).contains("destination exists");
    }
}
