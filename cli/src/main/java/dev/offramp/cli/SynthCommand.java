package dev.offramp.cli;

import dev.offramp.core.tensor.DType;
import dev.offramp.loader.synth.PlannedTensor;
import dev.offramp.loader.synth.SynthOptions;
import dev.offramp.loader.synth.SynthPlan;
import dev.offramp.loader.synth.SynthShape;
import dev.offramp.loader.synth.SynthVocab;
import dev.offramp.loader.synth.SyntheticModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code offramp synth SHAPE -o OUT.gguf [--type Q4_0] [--seed N] [--inert-from E] [--vocab FILE] [--dry-run]}:
 * a thin shell over {@link SyntheticModel}.
 */
@Command(name = "synth",
        mixinStandardHelpOptions = true,
        description = {"Write a random-weight GGUF at a real model's shape (for speed measurements).",
                "Shapes: tinyllama-1.1b, llama-3.2-1b, smollm-135m."})
final class SynthCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SHAPE", description = "tinyllama-1.1b, llama-3.2-1b or smollm-135m")
    String shapeName;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "GGUF file to write (not needed with --dry-run)")
    Path output;

    @Option(names = {"-t", "--type"}, paramLabel = "TYPE", defaultValue = "F16",
            description = "weight type: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (default ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--embedding-type", paramLabel = "TYPE",
            description = "type of token_embd.weight, even when it is the tied head (default: llama-quantize's rule)")
    String embeddingType;

    @Option(names = "--output-type", paramLabel = "TYPE",
            description = "type of the output head (default, as llama-quantize: Q6_K for quantized types, Q8_0 for Q8_0 or rows not a multiple of 256)")
    String outputType;

    @Option(names = "--seed", defaultValue = "0", description = "random seed; same seed, same bytes (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--inert-from", paramLabel = "E",
            description = "zero attn_output and ffn_down of layers >= E, so the final hidden state equals layer E's input")
    Integer inertFrom;

    @Option(names = "--layers", paramLabel = "N", description = "override the shape's layer count")
    Integer layers;

    @Option(names = "--vocab", paramLabel = "FILE",
            description = "GGUF to copy tokenizer metadata from (default: the shape's usual vocab under ../shared/models)")
    Path vocab;

    @Option(names = "--dry-run", description = "print the tensor table and metadata summary; write nothing")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        SynthShape shape = SynthShape.named(shapeName).orElseThrow(() -> new IllegalArgumentException(
                "unknown shape '" + shapeName + "' (known: " + String.join(", ", SynthShape.named().keySet()) + ")"));
        if (layers != null) {
            shape = shape.withLayers(layers);
        }
        SynthOptions o = SynthOptions.of(shape, dtype(type)).withSeed(seed)
                .withVocabFile(vocab != null ? vocab : findVocab(shape.vocab()));
        if (embeddingType != null) {
            o = o.withEmbeddingType(dtype(embeddingType));
        }
        if (outputType != null) {
            o = o.withOutputType(dtype(outputType));
        }
        if (inertFrom != null) {
            o = o.withInertFrom(inertFrom);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (dryRun) {
            SynthPlan plan = SyntheticModel.plan(o);
            for (PlannedTensor t : plan.tensors()) {
                out.printf(Locale.ROOT, "%-28s %-5s %-16s %,14d  %s%n", t.name(), t.type(), Arrays.toString(t.shape()),
                        t.byteSize(), t.fill());
            }
            summary(out, plan);
            out.flush();
            return 0;
        }
        if (output == null) {
            throw new IllegalArgumentException("synth: give -o FILE (or --dry-run)");
        }
        long start = System.nanoTime();
        SynthPlan plan = SyntheticModel.write(o, output);
        summary(out, plan);
        out.printf(Locale.ROOT, "wrote %s in %.1f s%n", output, (System.nanoTime() - start) / 1e9);
        out.flush();
        return 0;
    }

    private static void summary(PrintWriter out, SynthPlan plan) {
        out.printf(Locale.ROOT, "%s %s: %d tensors, %,d parameters, %,d bytes of tensor data%n",
                plan.options().shape().name(), plan.options().type(), plan.tensors().size(), plan.parameterCount(),
                plan.dataBytes());
    }

    private static DType dtype(String name) {
        try {
            return DType.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown weight type '" + name + "'");
        }
    }

    /** The shape's usual vocabulary file in a {@code shared/models} folder beside this or a parent folder. */
    private static Path findVocab(SynthVocab v) {
        if (v == SynthVocab.NONE) {
            return null;
        }
        String prop = System.getProperty("offramp.shared");
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path shared = prop != null ? Path.of(prop) : dir.resolveSibling("shared");
            for (String sub : new String[]{"llama.cpp-vocab", "random"}) {
                Path p = shared.resolve("models").resolve(sub).resolve(v.usualFile());
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
            if (prop != null) {
                break;
            }
        }
        throw new IllegalArgumentException("this shape borrows the " + v + " tokenizer: give --vocab FILE (usually "
                + v.usualFile() + ")");
    }
}
