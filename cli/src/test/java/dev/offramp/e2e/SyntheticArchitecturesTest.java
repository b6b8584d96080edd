package dev.offramp.e2e;

import dev.offramp.core.Models;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.generate.Generation;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.Session;
import dev.offramp.core.generate.SessionOptions;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.gguf.GgufWriter;
import dev.offramp.loader.gguf.LlamaCppPeer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Architectures without a trained fixture, as tiny random-weight GGUFs written with our writer:
 * qwen2 (q/k/v biases, NeoX RoPE), Llama with a {@code rope_freqs} tensor (how GGUF carries Llama 3
 * scaling), and Llama-arch GQA with a separate head (Mistral's GGUF layout: llama.cpp b4916 refuses
 * {@code general.architecture = mistral}, so Mistral GGUFs say {@code llama}). Greedy text must equal
 * llama.cpp's (de.kherud:llama b4916 in a child JVM) for 32 tokens.
 */
class SyntheticArchitecturesTest {

    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int DIM = 64;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 16;
    static final int FFN = 128;
    static final int LAYERS = 2;
    static final int VOCAB = 512;
    /** SentencePiece control and byte tokens of the stories260K vocabulary get zero head rows, so they are never picked and the text stays plain. */
    static final int FIRST_TEXT_TOKEN = 259;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"qwen2, true, false, true", "llama, false, true, false", "llama, false, false, false"})
    void greedyTextEqualsLlamaCpp(String arch, boolean bias, boolean ropeFreqs, boolean tied) throws Exception {
        Path file = tmp.resolve(arch + (ropeFreqs ? "-ropefreqs" : "") + ".gguf");
        write(file, arch, bias, ropeFreqs, tied, 1234);
        String ours;
        try (Generator g = Models.load(file); Session s = g.newSession(SessionOptions.defaults().withContextLength(128))) {
            Generation r = s.generate("Once upon a time", GenerateOptions.greedy(32).withIgnoreEos(true), null);
            assertThat(r.tokens()).hasSize(32);
            ours = r.text();
        }
        String theirs = LlamaCppPeer.greedy(file, "Once upon a time", 32);
        assertThat(ours).isNotBlank().isEqualTo(theirs);
    }

    static void write(Path file, String arch, boolean bias, boolean ropeFreqs, boolean tied, long seed) throws Exception {
        Random rnd = new Random(seed);
        GgufWriter w = GgufWriter.create();
        try (GgufFile vocab = GgufFile.open(Fixtures.model("stories260K.gguf"))) {
            vocab.metadata().entries().forEach((k, v) -> {
                if (k.startsWith("tokenizer.")) {
                    w.put(k, v);
                }
            });
            w.put("general.architecture", GgufValue.string(arch));
            w.put("general.name", GgufValue.string("offramp-synthetic-" + arch));
            w.put(arch + ".context_length", GgufValue.uint32(512));
            w.put(arch + ".embedding_length", GgufValue.uint32(DIM));
            w.put(arch + ".block_count", GgufValue.uint32(LAYERS));
            w.put(arch + ".feed_forward_length", GgufValue.uint32(FFN));
            w.put(arch + ".attention.head_count", GgufValue.uint32(HEADS));
            w.put(arch + ".attention.head_count_kv", GgufValue.uint32(KV_HEADS));
            w.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.float32(1e-5f));
            w.put(arch + ".rope.freq_base", GgufValue.float32(arch.equals("qwen2") ? 1_000_000f : 10_000f));
            w.put(arch + ".rope.dimension_count", GgufValue.uint32(HEAD_DIM));
            w.addTensor("token_embd.weight", DType.F32, new long[] {VOCAB, DIM}, tied ? head(rnd) : gauss(rnd, VOCAB * DIM, 1f));
            if (!tied) {
                w.addTensor("output.weight", DType.F32, new long[] {VOCAB, DIM}, head(rnd));
            }
            w.addTensor("output_norm.weight", DType.F32, new long[] {DIM}, norm(rnd, DIM));
            if (ropeFreqs) {
                // per-pair divisors as llama.cpp's converter bakes Llama 3 scaling: 1 for high frequencies, up to 8 for low
                float[] f = new float[HEAD_DIM / 2];
                for (int i = 0; i < f.length; i++) {
                    f[i] = 1 + 7f * i / (f.length - 1);
                }
                w.addTensor("rope_freqs.weight", DType.F32, new long[] {f.length}, seg(f));
            }
            for (int l = 0; l < LAYERS; l++) {
                String p = "blk." + l + ".";
                w.addTensor(p + "attn_norm.weight", DType.F32, new long[] {DIM}, norm(rnd, DIM));
                w.addTensor(p + "ffn_norm.weight", DType.F32, new long[] {DIM}, norm(rnd, DIM));
                w.addTensor(p + "attn_q.weight", DType.F32, new long[] {HEADS * HEAD_DIM, DIM}, gauss(rnd, HEADS * HEAD_DIM * DIM, 0.3f));
                w.addTensor(p + "attn_k.weight", DType.F32, new long[] {KV_HEADS * HEAD_DIM, DIM}, gauss(rnd, KV_HEADS * HEAD_DIM * DIM, 0.3f));
                w.addTensor(p + "attn_v.weight", DType.F32, new long[] {KV_HEADS * HEAD_DIM, DIM}, gauss(rnd, KV_HEADS * HEAD_DIM * DIM, 0.3f));
                w.addTensor(p + "attn_output.weight", DType.F32, new long[] {DIM, HEADS * HEAD_DIM}, gauss(rnd, DIM * HEADS * HEAD_DIM, 0.15f));
                w.addTensor(p + "ffn_gate.weight", DType.F32, new long[] {FFN, DIM}, gauss(rnd, FFN * DIM, 0.2f));
                w.addTensor(p + "ffn_up.weight", DType.F32, new long[] {FFN, DIM}, gauss(rnd, FFN * DIM, 0.2f));
                w.addTensor(p + "ffn_down.weight", DType.F32, new long[] {DIM, FFN}, gauss(rnd, DIM * FFN, 0.15f));
                if (bias) {
                    w.addTensor(p + "attn_q.bias", DType.F32, new long[] {HEADS * HEAD_DIM}, gauss(rnd, HEADS * HEAD_DIM, 0.5f));
                    w.addTensor(p + "attn_k.bias", DType.F32, new long[] {KV_HEADS * HEAD_DIM}, gauss(rnd, KV_HEADS * HEAD_DIM, 0.5f));
                    w.addTensor(p + "attn_v.bias", DType.F32, new long[] {KV_HEADS * HEAD_DIM}, gauss(rnd, KV_HEADS * HEAD_DIM, 0.5f));
                }
            }
            w.write(file);
        }
    }

    private static MemorySegment head(Random rnd) {
        float[] v = new float[VOCAB * DIM];
        for (int r = FIRST_TEXT_TOKEN; r < VOCAB; r++) {
            for (int c = 0; c < DIM; c++) {
                v[r * DIM + c] = (float) rnd.nextGaussian();
            }
        }
        return seg(v);
    }

    private static MemorySegment norm(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.8f + 0.4f * rnd.nextFloat();
        }
        return seg(v);
    }

    private static MemorySegment gauss(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian() * scale;
        }
        return seg(v);
    }

    private static MemorySegment seg(float[] v) {
        MemorySegment s = Arena.ofAuto().allocate(4L * v.length, 4);
        for (int i = 0; i < v.length; i++) {
            s.setAtIndex(LE, i, v[i]);
        }
        return s;
    }
}
