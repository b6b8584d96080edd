package dev.offramp.cli;

import dev.offramp.core.tensor.DType;
import dev.offramp.loader.convert.ConvertOptions;
import dev.offramp.loader.convert.GgufToHf;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.quantize.CompressedTensorsQuantizer;
import dev.offramp.loader.quantize.GgufQuantizer;
import dev.offramp.loader.quantize.KQuantMix;
import dev.offramp.loader.quantize.QuantizeOptions;
import dev.offramp.loader.quantize.TensorPlan;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code offramp quantize SRC.gguf DST.gguf --type Q4_K [--token-embedding-type T] [--output-type T]} or
 * {@code offramp quantize SRC.gguf DST.gguf --mixed [TYPES] --budget SIZE|TYPE --calibration FILE}:
 * a thin shell over {@link GgufQuantizer} (and {@code MixedPrecision} for {@code --mixed}). The tensor
 * table goes to stdout, the progress bar to stderr.
 */
@Command(name = "quantize",
        mixinStandardHelpOptions = true,
        description = {"Quantize a GGUF model (llama.cpp's conventions: norms stay F32, the output",
                "head gets Q6_K/Q8_0, rows that are not whole blocks fall back to a compatible",
                "type)."})
final class QuantizeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC", description = "GGUF model to read")
    Path source;

    @Parameters(index = "1", paramLabel = "DST", description = "GGUF file to write")
    Path dest;

    @Option(names = {"-t", "--type"}, paramLabel = "TYPE",
            description = "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, F16, BF16, F32 (GGUF out, uniform); "
                    + "llama.cpp's k-quant mixes Q4_K_M, Q4_K_S, Q5_K_M, Q5_K_S, Q3_K_M, Q3_K_S, Q3_K_L and Q2_K_MIX "
                    + "(llama-quantize's Q2_K) (GGUF out, per-tensor types as llama-quantize); "
                    + "FP8 or INT4 (HF folder out, compressed-tensors float-/pack-quantized); "
                    + "optional with --mixed")
    String type;

    @Option(names = "--token-embedding-type", paramLabel = "TYPE", description = "type of token_embd.weight")
    String tokenEmbeddingType;

    @Option(names = "--output-type", paramLabel = "TYPE", description = "type of the output head")
    String outputType;

    @Option(names = "--allow-requantize", description = "accept already-quantized weights as the source")
    boolean allowRequantize;

    @Option(names = "--threads", defaultValue = "0", description = "worker threads (0 = one per core)")
    int threads;

    @Option(names = "--quiet", description = "no tensor table and no progress bar")
    boolean quiet;

    @Option(names = "--mixed", paramLabel = "TYPES", arity = "0..1", fallbackValue = "all",
            description = "per-tensor mixed precision within --budget: each 2-D weight gets one of TYPES "
                    + "(comma-separated; default all of Q2_K,Q3_K,Q4_0,Q4_1,Q4_K,Q5_0,Q5_1,Q5_K,Q6_K,Q8_0; one type "
                    + "HIGH means --type or HIGH), chosen by the KL each adds on --calibration text")
    String mixedHigh;

    @Option(names = "--budget", paramLabel = "SIZE|TYPE",
            description = "weight bytes allowed with --mixed: a size (e.g. 6.2MB, 6500000) or a type name "
                    + "meaning 'the size of the uniform TYPE file'")
    String budget;

    @Option(names = "--calibration", paramLabel = "FILE", description = "text whose perplexity measures sensitivity (--mixed)")
    Path calibration;

    @Option(names = "--calibration-chunks", defaultValue = "1", description = "calibration chunks per measurement (default ${DEFAULT-VALUE})")
    int calibrationChunks;

    @Option(names = "--calibration-ctx", defaultValue = "256", description = "tokens per calibration chunk (default ${DEFAULT-VALUE})")
    int calibrationCtx;

    @Override
    public Integer call() throws Exception {
        if (type == null && mixedHigh == null) {
            throw new IllegalArgumentException("missing --type (required unless --mixed is given)");
        }
        if (type == null) {
            type = "Q4_K"; // replaced by the type holding most bytes once --mixed has chosen
        }
        String upper = type.toUpperCase(Locale.ROOT);
        if (upper.equals("FP8") || upper.equals("F8_E4M3") || upper.equals("INT4") || upper.equals("W4A16")) {
            return compressedTensors(upper.startsWith("F") ? CompressedTensorsQuantizer.Scheme.FP8
                    : CompressedTensorsQuantizer.Scheme.INT4);
        }
        java.util.Optional<KQuantMix> mix = KQuantMix.byName(type);
        if (mix.isPresent() && mixedHigh != null) {
            throw new IllegalArgumentException("--mixed chooses per-layer types itself; give it a plain --type, not "
                    + mix.get().label());
        }
        QuantizeOptions o = (mix.isPresent() ? QuantizeOptions.of(mix.get()) : QuantizeOptions.of(dtype(type)))
                .withThreads(threads).withAllowRequantize(allowRequantize);
        if (tokenEmbeddingType != null) {
            o = o.withTokenEmbeddingType(dtype(tokenEmbeddingType));
        }
        if (outputType != null) {
            o = o.withOutputType(dtype(outputType));
        }
        if (mixedHigh == null) {
            return run(o, Map.of());
        }
        if (budget == null || calibration == null) {
            throw new IllegalArgumentException("--mixed needs --budget and --calibration");
        }
        if (tokenEmbeddingType != null || outputType != null) {
            throw new IllegalArgumentException("--mixed chooses the embedding and output head types itself; "
                    + "drop --token-embedding-type/--output-type");
        }
        Map<String, DType> overrides;
        try (GgufFile src = GgufFile.open(source)) {
            overrides = mixed(src, o, mixedCandidates(mixedHigh, o.type()));
        }
        // general.file_type names the type that holds most of the chosen bytes ("mostly Q4_K")
        Map<DType, Long> byType = new java.util.EnumMap<>(DType.class);
        try (GgufFile src = GgufFile.open(source)) {
            overrides.forEach((n, t) -> byType.merge(t, t.bytesFor(src.tensor(n).elementCount()), Long::sum));
        }
        DType mostly = byType.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(o.type());
        return run(new QuantizeOptions(mostly, o.tokenEmbeddingType(), o.outputType(), Map.of(), o.threads(),
                o.allowRequantize()), overrides);
    }

    /** "all", a comma list, or one type HIGH (the older form: --type or HIGH). */
    static List<DType> mixedCandidates(String spec, DType type) {
        if (spec.equalsIgnoreCase("all")) {
            return dev.offramp.loader.quantize.MixedPrecision.CANDIDATES;
        }
        java.util.LinkedHashSet<DType> out = new java.util.LinkedHashSet<>();
        String[] parts = spec.split(",");
        if (parts.length == 1) {
            out.add(type);
        }
        for (String p : parts) {
            out.add(dtype(p.trim()));
        }
        return List.copyOf(out);
    }

    private Map<String, DType> mixed(GgufFile src, QuantizeOptions o, List<DType> candidates) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        long limit = parseBudget(src, budget);
        dev.offramp.core.tokenizer.Tokenizer tok = dev.offramp.loader.tokenizer.GgufTokenizers.find(src)
                .orElseThrow(() -> new IllegalArgumentException(source + ": no tokenizer metadata; --mixed needs one"));
        int[] ids = tok.encode(PerplexityCommand.readText(calibration), true, false);
        try (dev.offramp.core.backend.Backend backend = dev.offramp.core.Models.backend(null, threads)) {
            dev.offramp.loader.quantize.MixedPrecision.Choice c = dev.offramp.loader.quantize.MixedPrecision.choose(
                    src, o, candidates, limit, ids, tok.addsBos() ? tok.bos() : -1, calibrationCtx, calibrationChunks,
                    threads, backend, quiet ? null : line -> {
                        out.println("sensitivity: " + line);
                        out.flush();
                    });
            Map<DType, Integer> counts = new java.util.EnumMap<>(DType.class);
            c.overrides().values().forEach(t -> counts.merge(t, 1, Integer::sum));
            out.printf(Locale.ROOT, "mixed: %s; tensors %d bytes (budget %d), predicted KL %.3e%n",
                    counts, c.bytes(), limit, c.predictedKl());
            out.flush();
            return c.overrides();
        }
    }

    static long parseBudget(GgufFile src, String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        try {
            java.util.Optional<KQuantMix> mix = KQuantMix.byName(t);
            QuantizeOptions o = mix.isPresent() ? QuantizeOptions.of(mix.get()) : QuantizeOptions.of(DType.valueOf(t));
            return GgufQuantizer.plan(src, o).stream().mapToLong(TensorPlan::outputBytes).sum();
        } catch (IllegalArgumentException notAType) {
            double scale = 1;
            for (String[] u : new String[][] {{"GB", "1e9"}, {"MB", "1e6"}, {"KB", "1e3"}, {"B", "1"}}) {
                if (t.endsWith(u[0])) {
                    scale = Double.parseDouble(u[1]);
                    t = t.substring(0, t.length() - u[0].length()).trim();
                    break;
                }
            }
            try {
                return (long) (Double.parseDouble(t) * scale);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--budget must be a size (6.2MB) or a type name, got '" + s + "'");
            }
        }
    }

    /** FP8 / INT4 go to an HF folder in compressed-tensors format; a GGUF source is converted to HF first. */
    private Integer compressedTensors(CompressedTensorsQuantizer.Scheme scheme) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (!Files.exists(source)) {
            throw new java.nio.file.NoSuchFileException(source.toString(), null, "source model not found");
        }
        long t0 = System.nanoTime();
        if (Files.isDirectory(source)) {
            CompressedTensorsQuantizer.write(source, dest, scheme);
        } else {
            Path parent = dest.toAbsolutePath().normalize().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempDirectory(parent, ".offramp-hf-");
            try {
                Path hf = tmp.resolve("hf");
                GgufToHf.convert(source, hf, ConvertOptions.defaults());
                CompressedTensorsQuantizer.write(hf, dest, scheme);
            } finally {
                try (java.util.stream.Stream<Path> s = Files.walk(tmp)) {
                    for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
        out.printf(Locale.ROOT, "wrote %s (%s, compressed-tensors) in %.1f s%n", dest, scheme, (System.nanoTime() - t0) / 1e9);
        out.flush();
        return 0;
    }

    Integer run(QuantizeOptions o, Map<String, DType> overrides) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        checkDestination(source, dest);
        try (GgufFile src = GgufFile.open(source)) {
            QuantizeOptions opts = overrides.isEmpty() ? o : o.withOverrides(overrides);
            List<TensorPlan> plan = GgufQuantizer.plan(src, opts);
            long total = plan.stream().mapToLong(TensorPlan::elements).sum();
            long before = plan.stream().mapToLong(p -> p.from().bytesFor(p.elements())).sum();
            long after = plan.stream().mapToLong(TensorPlan::outputBytes).sum();
            if (!quiet) {
                out.printf(Locale.ROOT, "file type %s (general.file_type %d)%n",
                        dev.offramp.loader.quantize.LlamaFileType.name(opts.fileType()), opts.fileType());
                for (TensorPlan p : plan) {
                    out.printf(Locale.ROOT, "%-32s %-18s %5s -> %-5s %s%n", p.name(), java.util.Arrays.toString(p.shape()),
                            p.from(), p.to(), p.reason());
                }
                out.flush();
            }
            long t0 = System.nanoTime();
            if (quiet) {
                GgufQuantizer.write(src, plan, opts, dest, null);
            } else {
                try (ProgressBar bar = new ProgressBarBuilder().setTaskName("quantize").setInitialMax(total)
                        .setStyle(ProgressBarStyle.ASCII).setUnit(total >= 100_000_000 ? " Mweights" : " kweights", total >= 100_000_000 ? 1_000_000 : 1_000)
                        .setConsumer(new ConsoleProgressBarConsumer(stderr())).build()) {
                    GgufQuantizer.write(src, plan, opts, dest, bar::stepBy);
                }
            }
            out.printf(Locale.ROOT, "tensor data %.2f MB -> %.2f MB (%s), %.1f s%n", before / 1e6, after / 1e6,
                    dest, (System.nanoTime() - t0) / 1e9);
            out.flush();
        }
        return 0;
    }

    /** The progress bar must never touch stdout (it may be piped); picocli's err writer wraps System.err. */
    private static PrintStream stderr() {
        return System.err;
    }

    static void checkDestination(Path source, Path dest) throws java.io.IOException {
        if (!Files.exists(source)) {
            throw new java.nio.file.NoSuchFileException(source.toString(), null, "source model not found");
        }
        Path dir = dest.toAbsolutePath().getParent();
        if (Files.isDirectory(dest)) {
            throw new java.nio.file.FileSystemException(dest.toString(), null, "destination is a folder; name a file");
        }
        if (dir != null && Files.exists(dir) && !Files.isWritable(dir)) {
            throw new java.nio.file.AccessDeniedException(dir.toString(), null, "destination folder is not writable");
        }
    }

    static DType dtype(String s) {
        try {
            return DType.valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown weight type '" + s + "'");
        }
    }
}
