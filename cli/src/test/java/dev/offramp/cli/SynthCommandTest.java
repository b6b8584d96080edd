package dev.offramp.cli;

import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class SynthCommandTest {

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = OfframpCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void dryRunPrintsThePlan() {
        String vocab = Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-spm.gguf").toString();
        Run r = run("synth", "tinyllama-1.1b", "--type", "q4_0", "--vocab", vocab, "--dry-run");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("blk.21.ffn_down.weight").contains("1,100,048,384 parameters");
    }

    /** Two SmolLM layers for real: a small file, loadable as GGUF with the Llama 2 vocabulary. */
    @Test
    void writesAShortenedShape() throws Exception {
        String vocab = Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-spm.gguf").toString();
        Path out = tmp.resolve("smol2.gguf");
        Run r = run("synth", "smollm-135m", "--layers", "2", "--type", "Q8_0", "--seed", "4", "--inert-from", "1",
                "--vocab", vocab, "-o", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.metadata().getInt("llama.block_count")).isEqualTo(2);
            assertThat(g.metadata().getStringArray("tokenizer.ggml.tokens")).hasSize(32000);
            assertThat(g.tensor("blk.1.ffn_down.weight").data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                    .containsOnly((byte) 0);
        }
    }

    @Test
    void unknownShapeIsOneLine() {
        Run r = run("synth", "gpt-5", "--dry-run");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("offramp: ").contains("gpt-5").contains("tinyllama-1.1b");
    }
}
