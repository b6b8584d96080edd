package dev.offramp.cli;

import dev.offramp.core.LoadOptions;
import dev.offramp.core.Models;
import dev.offramp.core.generate.ContextOverflow;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.generate.Generation;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.SamplerSettings;
import dev.offramp.core.generate.Session;
import dev.offramp.core.generate.SessionOptions;
import dev.offramp.core.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code offramp generate --model F --prompt "..."}: echoes the prompt, streams the continuation to
 * stdout, then prints prompt and generation speed on stderr. Greedy unless {@code --temp} is set.
 */
@Command(name = "generate",
        mixinStandardHelpOptions = true,
        description = "Continue a prompt with a model (GGUF file or HF folder), streaming the text to stdout.")
final class GenerateCommand implements Callable<Integer> {

    /** Options every command that runs a model shares. */
    static final class ModelOptions {
        @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE|DIR",
                description = "GGUF file or HF safetensors folder")
        Path model;

        @Option(names = "--tokenizer", paramLabel = "FILE",
                description = "take the tokenizer from FILE (tokenizer.json, tokenizer.model or a GGUF)")
        Path tokenizer;

        @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "worker threads (0 = one per core)")
        int threads;

        @Option(names = {"-c", "--ctx"}, defaultValue = "0",
                description = "context length in tokens (0 = the model's, at most 4096)")
        int ctx;

        @Option(names = "--kv-type", defaultValue = "f32", description = "KV cache type: f32 or f16")
        String kvType;

        @Option(names = "--context-full", defaultValue = "error",
                description = "when the context is full: error, or slide (keep the newest half and go on)")
        String contextFull;

        @Option(names = "--backend", description = "backend name (default: the preferred one that runs here)")
        String backend;

        Generator load() throws IOException {
            return Models.load(model, new LoadOptions(tokenizer, backend, threads));
        }

        SessionOptions session() {
            DType kv = switch (kvType.toLowerCase(Locale.ROOT)) {
                case "f32" -> DType.F32;
                case "f16" -> DType.F16;
                default -> throw new IllegalArgumentException("--kv-type must be f32 or f16, got " + kvType);
            };
            ContextOverflow o = switch (contextFull.toLowerCase(Locale.ROOT)) {
                case "error" -> ContextOverflow.ERROR;
                case "slide" -> ContextOverflow.SLIDE;
                default -> throw new IllegalArgumentException("--context-full must be error or slide, got " + contextFull);
            };
            return SessionOptions.defaults().withContextLength(ctx).withKvType(kv).withOverflow(o);
        }
    }

    /** Sampling options (llama.cpp's names and defaults, except that the temperature defaults to greedy). */
    static final class SamplingOptions {
        @Option(names = "--temp", defaultValue = "0",
                description = "temperature; 0 = greedy (default), e.g. 0.8 to sample like llama.cpp")
        float temp;

        @Option(names = "--top-k", defaultValue = "40", description = "top-k (0 = off)")
        int topK;

        @Option(names = "--top-p", defaultValue = "0.95", description = "top-p (1 = off)")
        float topP;

        @Option(names = "--min-p", defaultValue = "0.05", description = "min-p (0 = off)")
        float minP;

        @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "repetition penalty (1 = off)")
        float repeatPenalty;

        @Option(names = "--repeat-last-n", defaultValue = "64", description = "tokens the penalties look back over")
        int repeatLastN;

        @Option(names = "--presence-penalty", defaultValue = "0", description = "presence penalty")
        float presence;

        @Option(names = "--frequency-penalty", defaultValue = "0", description = "frequency penalty")
        float frequency;

        @Option(names = {"-s", "--seed"}, defaultValue = "-1", description = "random seed (-1 = random)")
        long seed;

        SamplerSettings settings() {
            long s = seed == -1 ? new SecureRandom().nextLong() : seed;
            return new SamplerSettings(temp, topK, topP, minP, repeatPenalty, repeatLastN, frequency, presence, s);
        }
    }

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    @Option(names = {"-p", "--prompt"}, defaultValue = "", description = "the text to continue")
    String prompt;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "256", description = "tokens to generate at most")
    int n;

    @Option(names = "--stop", description = "stop when the text contains this (repeatable)")
    List<String> stops;

    @Option(names = "--ignore-eos", description = "keep generating past end-of-sequence")
    boolean ignoreEos;

    @Option(names = "--no-echo", description = "do not print the prompt before the continuation")
    boolean noEcho;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        GenerateOptions options = GenerateOptions.sampled(n, sampling.settings())
                .withStopStrings(stops).withIgnoreEos(ignoreEos);
        try (Generator g = modelOptions.load();
             Session session = g.newSession(modelOptions.session())) {
            g.tokenizer();
            if (!noEcho) {
                out.print(prompt);
                out.flush();
            }
            Generation r = session.generate(prompt, options, t -> {
                if (!t.text().isEmpty()) {
                    out.print(t.text());
                    out.flush();
                }
            });
            out.println();
            out.flush();
            err.printf(Locale.ROOT, "prompt: %d tokens, %.1f tokens/s; generation: %d tokens, %.1f tokens/s (%s)%n",
                    r.promptTokens(), r.promptTokensPerSecond(), r.tokens().length, r.generationTokensPerSecond(),
                    r.stopReason().name().toLowerCase(Locale.ROOT));
            err.flush();
        }
        return 0;
    }
}
