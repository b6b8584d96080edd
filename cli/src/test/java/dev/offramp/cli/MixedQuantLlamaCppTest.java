package dev.offramp.cli;

import dev.offramp.core.Models;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.Session;
import dev.offramp.core.generate.SessionOptions;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.LlamaCppPeer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A file written by {@code offramp quantize --mixed} (per-tensor types: K-quants and legacy blocks side
 * by side in one model) loads in llama.cpp ({@code de.kherud:llama}, child JVM with a timeout) and
 * generates the same greedy text as Offramp from that file. stories-ee12 (rows of 256 and 768: K-quants
 * and legacy blocks together) runs by default, ~20 s on two busy cores, most of it --mixed measuring
 * every tensor's options; stories260K (legacy blocks only: its rows of 64 and 172 fit no K-quant) adds
 * ~14 s and needs {@code -Dofframp.slowPeerTests=true}. One 64-token calibration chunk keeps both short.
 */
class MixedQuantLlamaCppTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"stories260K.gguf|Q4_0,Q4_1,Q5_0,Q8_0|Q5_0|24",
            "trained/stories-ee12-F32.gguf|Q3_K,Q4_K,Q5_1,Q8_0|Q4_K|32"})
    void mixedFileLoadsInLlamaCppAndGeneratesWhatWeGenerate(String model, String candidates, String budget, int tokens,
                                                             @TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(model.contains("ee12") || Boolean.getBoolean("offramp.slowPeerTests"),
                "set -Dofframp.slowPeerTests=true for the legacy-only stories260K mix (~14 s more)");
        long t0 = System.nanoTime();
        Path out = tmp.resolve("mixed.gguf");
        StringWriter stdout = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(QuantizeCommandTest.run(stdout, err, "quantize", Fixtures.model(model).toString(),
                out.toString(), "--mixed", candidates, "--budget", budget,
                "--calibration", Fixtures.shared().resolve("eval/stories-calibration.txt").toString(),
                "--calibration-ctx", "64", "--calibration-chunks", "1", "--threads", "2", "--quiet"))
                .as(err.toString()).isZero();
        Map<DType, Integer> types = new EnumMap<>(DType.class);
        try (GgufFile f = GgufFile.open(out)) {
            for (Tensor t : f.tensors().values()) {
                if (t.rank() == 2) {
                    types.merge(t.type(), 1, Integer::sum);
                }
            }
        }
        long t1 = System.nanoTime();
        System.err.println("mixed types: " + types + " (" + stdout.toString().strip() + ")");
        // a real mix (several block types in one file), or the test says nothing beyond the uniform ones
        assertThat(types.keySet().stream().filter(DType::isQuantized)).as(model).hasSizeGreaterThanOrEqualTo(2);
        String ours;
        try (Generator g = Models.load(out); Session s = g.newSession(SessionOptions.defaults().withContextLength(128))) {
            ours = s.generate("Once upon a time", GenerateOptions.greedy(tokens).withIgnoreEos(true), null).text();
        }
        long t2 = System.nanoTime();
        String theirs = LlamaCppPeer.greedy(out, "Once upon a time", tokens);
        System.err.printf("quantize --mixed %.1f s, ours %.1f s, llama.cpp peer %.1f s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                (System.nanoTime() - t2) / 1e9);
        System.err.println("mixed ours:   " + ours.replace("\n", "\\n"));
        System.err.println("mixed theirs: " + theirs.replace("\n", "\\n"));
        assertThat(ours).startsWith(", there was a");
        assertThat(theirs).isEqualTo(ours);
    }
}
