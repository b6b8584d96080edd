package dev.offramp.bench;

import dev.offramp.core.tensor.DType;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The options of {@code offramp bench} and {@code java -jar offramp-bench.jar} (a picocli mixin, so
 * both front ends take the same flags), and the one call that runs and prints.
 */
public final class BenchArgs {

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF to measure (default: a synthetic --shape)")
    Path model;

    @Option(names = "--shape", defaultValue = "tinyllama-1.1b",
            description = "synthetic shape when no --model: tinyllama-1.1b, llama-3.2-1b, smollm-135m (default ${DEFAULT-VALUE})")
    String shape;

    @Option(names = "--type", defaultValue = "Q4_0",
            description = "weight type of the synthetic model: Q4_0, Q8_0, F16, ... (default ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--seed", defaultValue = "0", description = "synthetic weights seed; also seeds the prompt tokens")
    long seed;

    @Option(names = "--vocab", paramLabel = "FILE", description = "GGUF to borrow the synthetic model's tokenizer from")
    Path vocab;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "where synthetic models are kept between runs (default $OFFRAMP_CACHE/synth or ~/.cache/offramp/synth)")
    Path cacheDir;

    @Option(names = {"-t", "--threads"}, split = ",", paramLabel = "N",
            description = "thread counts, e.g. 1,2 (default: one per core)")
    List<Integer> threads;

    @Option(names = {"-r", "--reps"}, defaultValue = "5", description = "timed repetitions per system (default ${DEFAULT-VALUE})")
    int reps;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "128", description = "prefill tokens (default ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "64", description = "decoded tokens (default ${DEFAULT-VALUE})")
    int genTokens;

    @Option(names = "--backend", description = "Offramp backend (default: the preferred one that runs here)")
    String backend;

    @Option(names = "--no-peer", description = "skip the de.kherud:llama peer")
    boolean noPeer;

    @Option(names = "--llama-bench", paramLabel = "PATH", description = "also measure this native llama-bench binary")
    Path llamaBench;

    @Option(names = "--llama-bench-label", paramLabel = "TEXT",
            description = "what the --llama-bench binary is (source commit, build flags), named in the report")
    String llamaBenchLabel;

    @Option(names = "--peer-timeout", defaultValue = "300",
            description = "seconds a peer may take for one repetition before it is killed (default ${DEFAULT-VALUE})")
    int peerTimeout;

    @Option(names = "--bandwidth-mb", defaultValue = "1024",
            description = "MiB the read-bandwidth probe streams; keep it >> the last-level cache (default ${DEFAULT-VALUE})")
    long bandwidthMb;

    @Option(names = "--json", description = "print the report as JSON")
    boolean json;

    @Option(names = "--markdown", description = "print the report as a Markdown table")
    boolean markdown;

    @Option(names = "--no-progress", description = "no progress bar on stderr")
    boolean noProgress;

    public BenchOptions toOptions() {
        DType t;
        try {
            t = DType.valueOf(type.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown weight type '" + type + "'");
        }
        List<Integer> th = threads == null || threads.isEmpty()
                ? List.of(Runtime.getRuntime().availableProcessors()) : new ArrayList<>(threads);
        return new BenchOptions(model, model == null ? shape : null, t, seed, vocab,
                cacheDir != null ? cacheDir : BenchOptions.defaultCacheDir(), th, reps, promptTokens, genTokens, backend,
                !noPeer, llamaBench, llamaBenchLabel, Duration.ofSeconds(peerTimeout), bandwidthMb << 20, !noProgress);
    }

    public ReportFormat format() {
        if (json && markdown) {
            throw new IllegalArgumentException("--json and --markdown exclude each other");
        }
        return json ? ReportFormat.JSON : markdown ? ReportFormat.MARKDOWN : ReportFormat.TEXT;
    }

    /** Runs the benchmark and prints the report to {@code out}; progress goes to {@code err}. */
    public int run(PrintWriter out, PrintStream err) throws Exception {
        ReportFormat f = format();
        BenchReport r = new EndToEndBench(toOptions(), err).run();
        out.print(f.render(r));
        out.flush();
        return 0;
    }
}
