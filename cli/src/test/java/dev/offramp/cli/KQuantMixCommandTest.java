package dev.offramp.cli;

import dev.offramp.core.Models;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.generate.Generation;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.Session;
import dev.offramp.core.generate.SessionOptions;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.LlamaCppPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code offramp quantize --type Q4_K_M} end to end on stories-ee12 (rows of 256 and 768, tied head). */
class KQuantMixCommandTest {

    @Test
    void q4KMOfStoriesEe12LoadsGeneratesAndMatchesLlamaCpp(@TempDir Path tmp) throws Exception {
        Path src = Fixtures.model("trained/stories-ee12-F32.gguf");
        Path out = tmp.resolve("ee12-Q4_K_M.gguf");
        StringWriter stdout = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(QuantizeCommandTest.run(stdout, err, "quantize", src.toString(), out.toString(), "-t", "q4_k_m",
                "--threads", "2")).as(err.toString()).isZero();
        assertThat(stdout.toString()).contains("file type Q4_K_M (general.file_type 15)")
                .contains("Q4_K_M: attn_v on a use-more-bits layer");
        // 12 layers: n/8 = 1, 7n/8 = 10, (l - 1) % 3 == 2 -> layers 0, 3, 6, 9, 10, 11 get Q6_K V and FFN-down
        Set<Integer> more = Set.of(0, 3, 6, 9, 10, 11);
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.metadata().getLong("general.file_type")).isEqualTo(15);
            assertThat(f.tensor("token_embd.weight").type()).isEqualTo(DType.Q6_K); // tied head
            for (int l = 0; l < 12; l++) {
                DType v = more.contains(l) ? DType.Q6_K : DType.Q4_K;
                assertThat(f.tensor("blk." + l + ".attn_v.weight").type()).as("attn_v " + l).isEqualTo(v);
                assertThat(f.tensor("blk." + l + ".ffn_down.weight").type()).as("ffn_down " + l).isEqualTo(v);
                assertThat(f.tensor("blk." + l + ".attn_q.weight").type()).isEqualTo(DType.Q4_K);
                assertThat(f.tensor("blk." + l + ".ffn_up.weight").type()).isEqualTo(DType.Q4_K);
                assertThat(f.tensor("blk." + l + ".ffn_norm.weight").type()).isEqualTo(DType.F32);
            }
        }
        assertThat(tmp.toFile().list()).containsExactly("ee12-Q4_K_M.gguf");

        StringWriter inspect = new StringWriter();
        assertThat(QuantizeCommandTest.run(inspect, new StringWriter(), "inspect", out.toString())).isZero();
        assertThat(inspect.toString()).contains("Q4_K_M (general.file_type 15)");

        String ours;
        try (Generator g = Models.load(out); Session s = g.newSession(SessionOptions.defaults().withContextLength(128))) {
            Generation r = s.generate("Once upon a time", GenerateOptions.greedy(32).withIgnoreEos(true), null);
            assertThat(r.tokens()).hasSize(32);
            ours = r.text();
        }
        String theirs = LlamaCppPeer.greedy(out, "Once upon a time", 32);
        System.err.println("ours:   " + ours.replace("\n", "\\n"));
        System.err.println("theirs: " + theirs.replace("\n", "\\n"));
        assertThat(ours).startsWith(", there was a little girl named Lily.");
        assertThat(theirs).isEqualTo(ours);
    }

    /** The 2-3 bit mixes: Q3_K/Q2_K written by our quantizers load in llama.cpp and generate what we generate. */
    @ParameterizedTest
    @CsvSource({"Q3_K_M, 12, Q3_K", "Q2_K_MIX, 10, Q2_K"})
    void lowBitMixesLoadInLlamaCpp(String type, int fileType, DType base, @TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("ee12-" + type + ".gguf");
        StringWriter err = new StringWriter();
        assertThat(QuantizeCommandTest.run(new StringWriter(), err, "quantize",
                Fixtures.model("trained/stories-ee12-F32.gguf").toString(), out.toString(), "-t", type, "--quiet",
                "--threads", "2")).as(err.toString()).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.metadata().getLong("general.file_type")).isEqualTo(fileType);
            assertThat(f.tensor("blk.5.attn_q.weight").type()).isEqualTo(base);
            assertThat(f.tensor("blk.5.ffn_down.weight").type()).isNotEqualTo(base);
        }
        String ours;
        try (Generator g = Models.load(out); Session s = g.newSession(SessionOptions.defaults().withContextLength(128))) {
            ours = s.generate("Once upon a time", GenerateOptions.greedy(32).withIgnoreEos(true), null).text();
        }
        String theirs = LlamaCppPeer.greedy(out, "Once upon a time", 32);
        System.err.println(type + " ours:   " + ours.replace("\n", "\\n"));
        System.err.println(type + " theirs: " + theirs.replace("\n", "\\n"));
        assertThat(ours).startsWith(", there was a");
        assertThat(theirs).isEqualTo(ours);
    }

    @Test
    void smallRowsFallBackAndMixedWithAMixIsRefused(@TempDir Path tmp) throws Exception {
        Path src = Fixtures.model("stories260K.gguf");
        Path out = tmp.resolve("s-Q4_K_M.gguf");
        StringWriter err = new StringWriter();
        assertThat(QuantizeCommandTest.run(new StringWriter(), err, "quantize", src.toString(), out.toString(), "-t",
                "Q4_K_M", "--quiet")).as(err.toString()).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            // 5 layers: use-more-bits layers are 2 and 4 (n/8 = 0, 7n/8 = 4); rows of 64 fit no 256-block
            assertThat(f.tensor("blk.2.attn_v.weight").type()).isEqualTo(DType.Q8_0);  // Q6_K -> Q8_0
            assertThat(f.tensor("blk.1.attn_v.weight").type()).isEqualTo(DType.Q5_0);  // Q4_K -> Q5_0
            assertThat(f.tensor("blk.1.attn_q.weight").type()).isEqualTo(DType.Q5_0);
            assertThat(f.tensor("blk.2.ffn_down.weight").type()).isEqualTo(DType.F16); // rows of 172: Q8_0 -> F16
            assertThat(f.metadata().getLong("general.file_type")).isEqualTo(15);
        }
        err.getBuffer().setLength(0);
        assertThat(QuantizeCommandTest.run(new StringWriter(), err, "quantize", src.toString(),
                tmp.resolve("x.gguf").toString(), "-t", "Q4_K_M", "--mixed", "Q6_K", "--budget", "Q5_K",
                "--calibration", src.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--mixed").contains("Q4_K_M");
        assertThat(tmp.toFile().list()).containsExactly("s-Q4_K_M.gguf");
    }
}
