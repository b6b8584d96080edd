package dev.offramp.cli;

import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class InspectCommandTest {

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
    void textAndJson() {
        String model = Fixtures.model("stories260K.gguf").toString();
        Run text = run("inspect", model);
        assertThat(text.code()).isZero();
        assertThat(text.out()).contains("architecture: llama").contains("blk.4.ffn_down.weight");
        Run json = run("inspect", "--json", model);
        assertThat(json.code()).isZero();
        assertThat(json.out().trim()).startsWith("{").endsWith("}").contains("\"tensorCount\" : 48");
    }

    @Test
    void badFileIsOneLine() {
        Run r = run("inspect", Fixtures.model("README.md").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("offramp: ").contains("README.md");
        assertThat(r.err().strip().lines()).hasSize(1);
    }
}
