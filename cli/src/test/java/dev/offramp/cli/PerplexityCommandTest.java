package dev.offramp.cli;

import dev.offramp.core.Models;
import dev.offramp.core.eval.Perplexity;
import dev.offramp.core.eval.PerplexityResult;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Perplexity pinned to llama-perplexity's numbers (../shared/models/README.md, stories-ee12 section). */
class PerplexityCommandTest {

    @Test
    void storiesEe12F32MatchesLlamaCpp() throws Exception {
        Path model = Fixtures.model("trained/stories-ee12-F32.gguf");
        Path text = Fixtures.model("trained/stories-ee12-valid.txt");
        try (Generator g = Models.load(model)) {
            PerplexityResult r = Perplexity.of(g.model(), g.tokenizer(), PerplexityCommand.readText(text), 512, 512, null);
            System.err.printf("stories-ee12 F32 perplexity %.5f (llama.cpp 3.3311), %d chunks, %d tokens%n",
                    r.perplexity(), r.chunks(), r.tokens());
            assertThat(r.chunks()).isEqualTo(19);
            assertThat(r.scored()).isEqualTo(19L * 255);
            assertThat(r.perplexity()).isCloseTo(3.3311, within(0.002));
        }
    }

    @Test
    void commandPrintsPplAndRefusesShortText(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path model = Fixtures.model("stories260K.gguf");
        Path text = Fixtures.model("trained/stories-ee12-valid.txt");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = OfframpCli.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute("perplexity", "-m", model.toString(), "-f", text.toString(), "--ctx", "128", "--chunks", "3");
        assertThat(rc).as(err.toString()).isZero();
        assertThat(out.toString()).startsWith("PPL = ");
        assertThat(err.toString()).contains("chunk 3/3");

        Path shortText = tmp.resolve("short.txt");
        java.nio.file.Files.writeString(shortText, "Once upon a time");
        err.getBuffer().setLength(0);
        rc = OfframpCli.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute("perplexity", "-m", model.toString(), "-f", shortText.toString(), "--ctx", "128");
        assertThat(rc).isEqualTo(2);
        assertThat(err.toString()).contains("needs at least 256");
    }
}
