package dev.offramp.e2e;

import dev.offramp.cli.OfframpCli;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.lang.reflect.Field;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code offramp chat} driven by a scripted conversation. */
class ChatCommandTest {

    static GenerateCommandTest.Run chat(String script, String... args) throws Exception {
        CommandLine cl = OfframpCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        CommandLine sub = cl.getSubcommands().get("chat");
        Object cmd = sub.getCommand();
        Field input = cmd.getClass().getDeclaredField("input");
        input.setAccessible(true);
        input.set(cmd, new BufferedReader(new StringReader(script)));
        String[] all = new String[args.length + 1];
        all[0] = "chat";
        System.arraycopy(args, 0, all, 1, args.length);
        int rc = cl.execute(all);
        return new GenerateCommandTest.Run(rc, out.toString(), err.toString());
    }

    @Test
    void twoTurnsAndResetAreDeterministicWhenGreedy() throws Exception {
        String model = Fixtures.model("stories260K.gguf").toString();
        String script = "Tell me a story\nAnd then?\n/reset\nTell me a story\n/exit\n";
        GenerateCommandTest.Run a = chat(script, "--model", model, "-n", "24", "--template", "chatml");
        assertThat(a.rc()).as(a.err()).isZero();
        assertThat(a.err()).contains("chat format").contains("tokens/s");
        String[] replies = a.out().split("> ");
        // "", reply 1, reply 2, "" (the prompt /reset answered), reply after reset; the prompt /exit answered is trailing
        assertThat(replies).hasSize(5);
        assertThat(replies[1]).isNotBlank();
        assertThat(replies[2]).isNotBlank().isNotEqualTo(replies[1]);
        assertThat(replies[3]).isEmpty();
        assertThat(replies[4]).isEqualTo(replies[1]);
        GenerateCommandTest.Run b = chat(script, "--model", model, "-n", "24", "--template", "chatml");
        assertThat(b.out()).isEqualTo(a.out());
        GenerateCommandTest.Run bad = chat("", "--model", model, "--template", "nonsense");
        assertThat(bad.rc()).isEqualTo(2);
        assertThat(bad.err()).contains("nonsense").contains("chatml");
    }
}
