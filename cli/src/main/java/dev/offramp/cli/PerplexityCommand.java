package dev.offramp.cli;

import dev.offramp.core.LoadOptions;
import dev.offramp.core.Models;
import dev.offramp.core.eval.Perplexity;
import dev.offramp.core.eval.PerplexityResult;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code offramp perplexity --model F --text FILE [--ctx 512] [--batch 512] [--chunks N]}: perplexity as
 * llama-perplexity defines it (see {@link Perplexity}). Prints {@code PPL} on stdout, progress on stderr.
 */
@Command(name = "perplexity",
        mixinStandardHelpOptions = true,
        description = {"Perplexity of a model over a text file, defined as llama.cpp's llama-perplexity:",
                "chunks of --ctx tokens, BOS first in each, the second half of each chunk scored."})
final class PerplexityCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE|DIR", description = "GGUF file or HF folder")
    Path model;

    @Option(names = {"-f", "--text"}, required = true, paramLabel = "FILE", description = "UTF-8 text to score")
    Path text;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "take the tokenizer from this file instead")
    Path tokenizer;

    @Option(names = {"-c", "--ctx"}, defaultValue = "512", description = "tokens per chunk (default ${DEFAULT-VALUE})")
    int ctx;

    @Option(names = {"-b", "--batch", "--stride"}, defaultValue = "512",
            description = "tokens per forward step, at most --ctx (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--chunks", defaultValue = "0", description = "evaluate at most this many chunks (0 = all)")
    int chunks;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "worker threads (0 = one per core)")
    int threads;

    @Option(names = "--backend", description = "backend name (default: the preferred one that runs here)")
    String backend;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String content = readText(text);
        long t0 = System.nanoTime();
        try (Generator g = Models.load(model, new LoadOptions(tokenizer, backend, threads))) {
            Tokenizer tok = g.tokenizer();
            int[] ids = tok.encode(content, true, false);
            int total = Math.min(ids.length / Math.max(ctx, 1), chunks > 0 ? chunks : Integer.MAX_VALUE);
            err.printf(Locale.ROOT, "%d tokens, %d chunks of %d%n", ids.length, total, ctx);
            err.flush();
            PerplexityResult r = Perplexity.ofTokens(g.model(), ids, tok.addsBos() ? tok.bos() : -1, ctx, batch,
                    chunks > 0 ? chunks : Integer.MAX_VALUE, c -> {
                        err.printf(Locale.ROOT, "\rchunk %d/%d", c + 1, total);
                        err.flush();
                    });
            err.printf(Locale.ROOT, "%n%d tokens scored in %.1f s%n", r.scored(), (System.nanoTime() - t0) / 1e9);
            out.printf(Locale.ROOT, "PPL = %.4f +/- %.5f%n", r.perplexity(), r.perplexity() * r.stdError());
            out.flush();
        }
        return 0;
    }

    /** The file's text; like llama.cpp's {@code -f}, one trailing newline is dropped. */
    static String readText(Path file) throws java.io.IOException {
        String s = Files.readString(file, StandardCharsets.UTF_8);
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }
}
