package dev.offramp.cli;

import dev.offramp.core.chat.ChatFormat;
import dev.offramp.core.chat.ChatMessage;
import dev.offramp.core.chat.ChatTemplate;
import dev.offramp.core.chat.ChatTemplates;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.generate.Generation;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.Session;
import dev.offramp.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code offramp chat --model F}: an interactive conversation in the model's chat template. Each
 * turn re-renders the whole conversation and keeps the KV cache of the prefix it shares with the
 * previous turn ({@link Session#sync}), so only the new turn is evaluated.
 */
@Command(name = "chat",
        mixinStandardHelpOptions = true,
        description = {"Chat with a model in its chat template. Type a message and press Enter;",
                "/reset starts over, /exit (or end of input) quits."})
final class ChatCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    GenerateCommand.ModelOptions modelOptions = new GenerateCommand.ModelOptions();

    @Mixin
    GenerateCommand.SamplingOptions sampling = new GenerateCommand.SamplingOptions();

    @Option(names = "--system", description = "system prompt")
    String system;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "512", description = "tokens per reply at most")
    int n;

    @Option(names = "--template",
            description = "chat format instead of the model's own (chatml, llama2, llama3, phi3, zephyr, gemma, ...)")
    String template;

    /** Where messages come from; standard input unless a test sets it. */
    BufferedReader input;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BufferedReader in = input != null ? input
                : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        GenerateOptions options = GenerateOptions.sampled(n, sampling.settings());
        try (Generator g = modelOptions.load();
             Session session = g.newSession(modelOptions.session())) {
            Tokenizer tok = g.tokenizer();
            ChatTemplate chat = pick(g, tok);
            err.println("chat format: " + chat.name() + " (/reset starts over, /exit quits)");
            err.flush();
            List<ChatMessage> messages = new ArrayList<>();
            if (system != null && !system.isBlank()) {
                messages.add(ChatMessage.system(system));
            }
            int keep = messages.size();
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit") || line.strip().equals("/quit")) {
                    break;
                }
                if (line.strip().equals("/reset")) {
                    messages.subList(keep, messages.size()).clear();
                    session.rollback(0);
                    continue;
                }
                if (line.isBlank()) {
                    continue;
                }
                messages.add(ChatMessage.user(line));
                session.sync(encode(tok, chat.render(messages, true)));
                Generation r = session.generate(new int[0], options, t -> {
                    if (!t.text().isEmpty()) {
                        out.print(t.text());
                        out.flush();
                    }
                });
                out.println();
                out.flush();
                messages.add(ChatMessage.assistant(r.text().strip()));
                err.printf(Locale.ROOT, "[%d tokens, %.1f tokens/s]%n", r.tokens().length, r.generationTokensPerSecond());
                err.flush();
            }
        }
        return 0;
    }

    private ChatTemplate pick(Generator g, Tokenizer tok) {
        if (template != null) {
            return Arrays.stream(ChatFormat.values())
                    .filter(f -> f.llamaCppName().equalsIgnoreCase(template) || f.name().equalsIgnoreCase(template))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown chat format '" + template + "' (known: "
                            + Arrays.stream(ChatFormat.values()).map(ChatFormat::llamaCppName).toList() + ")"));
        }
        Object t = g.metadata().get("tokenizer.chat_template");
        return ChatTemplates.choose(t instanceof String s ? s : null, tok);
    }

    /** Encodes a rendered conversation; a template that spells out BOS itself must not get a second one. */
    private static int[] encode(Tokenizer tok, String text) {
        int[] ids = tok.encode(text, true, true);
        if (ids.length >= 2 && tok.bos() >= 0 && ids[0] == tok.bos() && ids[1] == tok.bos()) {
            return Arrays.copyOfRange(ids, 1, ids.length);
        }
        return ids;
    }
}
