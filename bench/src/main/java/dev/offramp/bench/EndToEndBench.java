package dev.offramp.bench;

import jdk.incubator.vector.VectorShape;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Offramp against llama.cpp on the same GGUF, same threads, same pp/tg sizes, in the same run: per
 * thread count, the machine's read bandwidth is measured, every system is started once, and then the
 * systems take turns (order rotated each repetition) until each has {@code reps} timed repetitions.
 * Medians are reported. Progress goes to stderr.
 *
 * <pre>{@code
 * BenchReport r = new EndToEndBench(BenchOptions.defaults().withThreads(List.of(1, 2)), System.err).run();
 * System.out.print(ReportFormat.MARKDOWN.render(r));
 * }</pre>
 */
public final class EndToEndBench {

    private static final System.Logger LOG = System.getLogger(EndToEndBench.class.getName());

    private final BenchOptions o;
    private final PrintStream err;

    public EndToEndBench(BenchOptions options, PrintStream err) {
        this.o = options;
        this.err = err;
    }

    public BenchReport run() throws IOException, InterruptedException {
        if (o.llamaBench() != null && !java.nio.file.Files.isExecutable(o.llamaBench())) {
            throw new IllegalArgumentException("--llama-bench " + o.llamaBench() + ": not an executable file");
        }
        Path model = o.model();
        String label;
        if (model == null) {
            label = o.shape() + " " + o.type() + " (synthetic, seed " + o.seed() + ")";
            if (o.progress()) {
                err.println("bench: synthetic model " + o.shape() + " " + o.type() + " (cache " + o.cacheDir() + ")");
            }
            model = SynthCache.model(o.cacheDir(), o.shape(), o.type(), o.seed(), o.vocab());
        } else {
            label = model.getFileName().toString();
        }
        WeightTraffic traffic = WeightTraffic.of(model);
        int systems = 1 + (o.kherudPeer() ? 1 : 0) + (o.llamaBench() != null ? 1 : 0);
        long steps = (long) o.threads().size() * (2 + (long) o.reps() * systems);
        List<ThreadRun> runs = new ArrayList<>();
        try (ReadBandwidth bw = new ReadBandwidth(o.bandwidthBytes());
             ProgressBar bar = progress(steps)) {
            for (int t : o.threads()) {
                runs.add(runThreads(model, t, traffic, bw, bar));
            }
        }
        return new BenchReport(model.toString(), label, traffic.typeSummary(), traffic.bytesPerToken(),
                o.promptTokens(), o.genTokens(), o.reps(), machine(), runs);
    }

    private ThreadRun runThreads(Path model, int threads, WeightTraffic traffic, ReadBandwidth bw, ProgressBar bar)
            throws IOException, InterruptedException {
        message(bar, threads + "T: read bandwidth");
        double readGbps = bw.measure(threads, 5);
        step(bar);
        List<BenchSystem> started = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        List<List<Sample>> samples = new ArrayList<>();
        try {
            message(bar, threads + "T: loading offramp");
            started.add(new OfframpSystem(model, o.backend(), threads, o.promptTokens(), o.genTokens(), o.seed()));
            if (o.kherudPeer()) {
                message(bar, threads + "T: starting de.kherud:llama peer");
                try {
                    started.add(new KherudPeer(model, threads, o.promptTokens(), o.genTokens(), o.peerTimeout()));
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "de.kherud peer did not start: {0}", e.getMessage());
                    started.add(new FailedSystem("llama.cpp (de.kherud)", "de.kherud:llama " + KherudPeer.artifactVersion(),
                            e.getMessage()));
                }
            }
            if (o.llamaBench() != null) {
                started.add(new LlamaBenchPeer(o.llamaBench(), model, threads, o.promptTokens(), o.genTokens(),
                        o.peerTimeout(), o.llamaBenchLabel()));
            }
            for (BenchSystem s : started) {
                names.add(s.name());
                errors.add(s instanceof FailedSystem f ? f.error() : null);
                samples.add(new ArrayList<>());
            }
            for (int rep = 0; rep < o.reps(); rep++) {
                for (int k = 0; k < started.size(); k++) {
                    int i = (k + rep) % started.size(); // rotate who goes first
                    BenchSystem s = started.get(i);
                    message(bar, String.format(Locale.ROOT, "%dT rep %d/%d: %s", threads, rep + 1, o.reps(), s.name()));
                    if (errors.get(i) == null) {
                        try {
                            samples.get(i).add(s.measure());
                        } catch (IOException | RuntimeException e) {
                            if (i == 0) {
                                throw e; // Offramp itself failing is a bug to surface, not a row to skip
                            }
                            LOG.log(System.Logger.Level.WARNING, "{0} failed: {1}", s.name(), e.getMessage());
                            errors.set(i, e.getMessage());
                        }
                    }
                    step(bar);
                }
            }
            message(bar, threads + "T: read bandwidth again");
            readGbps = Math.max(readGbps, bw.measure(threads, 3));
            step(bar);
            List<SystemResult> results = new ArrayList<>();
            for (int i = 0; i < started.size(); i++) {
                List<Double> pp = samples.get(i).stream().map(Sample::prefillTps).toList();
                List<Double> tg = samples.get(i).stream().map(Sample::decodeTps).toList();
                double gbps = Stats.median(tg) * traffic.bytesPerToken() / 1e9;
                results.add(new SystemResult(names.get(i), started.get(i).build(), pp, tg, gbps, gbps / readGbps,
                        errors.get(i)));
            }
            return new ThreadRun(threads, readGbps, results);
        } finally {
            for (BenchSystem s : started) {
                s.close();
            }
        }
    }

    private ProgressBar progress(long steps) {
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName("bench").setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate();
        if (o.progress()) {
            b.setConsumer(new ConsoleProgressBarConsumer(err));
        } else {
            b.setConsumer(new me.tongfei.progressbar.ProgressBarConsumer() {
                @Override
                public int getMaxRenderedLength() {
                    return 80;
                }

                @Override
                public void accept(String rendered) {
                }

                @Override
                public void close() {
                }
            });
        }
        return b.build();
    }

    private static void message(ProgressBar bar, String m) {
        bar.setExtraMessage(m);
    }

    private static void step(ProgressBar bar) {
        bar.step();
    }

    private static String machine() {
        return String.format(Locale.ROOT, "%d CPUs, %d-bit vectors, JDK %s, %s", Runtime.getRuntime().availableProcessors(),
                VectorShape.preferredShape().vectorBitSize(), Runtime.version(), System.getProperty("os.arch"));
    }

    /** A peer that could not start: keeps its row (and the reason) in the report. */
    private record FailedSystem(String name, String build, String error) implements BenchSystem {
        @Override
        public Sample measure() {
            throw new IllegalStateException(error);
        }

        @Override
        public void close() {
        }
    }
}
