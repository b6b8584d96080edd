package dev.offramp.e2e;

import dev.offramp.cli.OfframpCli;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code offramp generate} in-process: the done-criterion command of issue 7, and its error paths. */
class GenerateCommandTest {

    record Run(int rc, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = OfframpCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute(args);
        return new Run(rc, out.toString(), err.toString());
    }

    @Test
    void generatePrintsTheGoldenStoryAndSpeeds() {
        String golden = Goldens.json("stories260K_greedy_goldens.json").at("/models/F32/llamacpp_b4916_text").asText();
        Run r = run("generate", "--model", Fixtures.model("stories260K.gguf").toString(),
                "--prompt", "Once upon a time", "-n", "100", "--threads", "2");
        assertThat(r.rc()).as(r.err()).isZero();
        String story = r.out().stripTrailing();
        assertThat(story.length()).isGreaterThan(200);
        assertThat(golden).startsWith(story);
        assertThat(r.err()).contains("prompt: 5 tokens").contains("generation: 100 tokens").contains("tokens/s");
    }

    @Test
    void samplingWithASeedIsRepeatable() {
        String[] args = {"generate", "--model", Fixtures.model("stories260K.gguf").toString(),
                "--prompt", "Once upon a time", "-n", "40", "--temp", "0.9", "--top-k", "40", "--top-p", "0.95",
                "--min-p", "0.05", "--repeat-penalty", "1.1", "--seed", "1234"};
        Run a = run(args);
        Run b = run(args);
        assertThat(a.rc()).as(a.err()).isZero();
        assertThat(a.out()).isEqualTo(b.out()).startsWith("Once upon a time");
    }

    @Test
    void badInputIsOneClearLine() {
        Run missing = run("generate", "--model", "/nonexistent/model.gguf", "--prompt", "x");
        assertThat(missing.rc()).isEqualTo(2);
        assertThat(missing.err()).contains("/nonexistent/model.gguf").doesNotContain("\tat ");
        Run noTok = run("generate", "--model", Fixtures.model("derived/stories260K-hf").toString(), "--prompt", "x");
        assertThat(noTok.rc()).isEqualTo(2);
        assertThat(noTok.err()).contains("--tokenizer").doesNotContain("\tat ");
        Run ctx = run("generate", "--model", Fixtures.model("stories260K.gguf").toString(), "--prompt",
                "Once upon a time", "-n", "50", "--ctx", "16");
        assertThat(ctx.rc()).isEqualTo(2);
        assertThat(ctx.err()).contains("context");
    }
}
