package dev.offramp.cli;

import dev.offramp.loader.convert.ConvertOptions;
import dev.offramp.loader.convert.GgufToHf;
import dev.offramp.loader.convert.HfToGguf;
import dev.offramp.loader.quantize.TensorPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code offramp convert SRC DST [--type T] [--tokenizer PATH]}: an HF folder becomes a GGUF file, a GGUF
 * file becomes an HF folder (the direction follows SRC). A thin shell over {@link HfToGguf} and {@link GgufToHf}.
 */
@Command(name = "convert",
        mixinStandardHelpOptions = true,
        description = {"Convert between an HF folder (config.json + safetensors) and a GGUF file.",
                "HF -> GGUF permutes q/k rows to llama.cpp's order (llama arch) and takes",
                "the vocabulary from the folder's tokenizer.model or byte-level BPE",
                "tokenizer.json, or from --tokenizer PATH.",
                "GGUF -> HF writes config.json, model.safetensors and the vocabulary:",
                "tokenizer.model (SentencePiece) or tokenizer.json (byte-level BPE),",
                "each with a tokenizer_config.json."})
final class ConvertCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC", description = "HF folder or GGUF file")
    Path source;

    @Parameters(index = "1", paramLabel = "DST", description = "GGUF file (from a folder) or folder (from a GGUF)")
    Path dest;

    @Option(names = {"-t", "--type"}, paramLabel = "TYPE",
            description = "output weight type (GGUF: F32, F16, BF16, Q8_0, Q4_0, ..., Q6_K; HF: F32, F16, BF16); "
                    + "default: keep the source's float types")
    String type;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "HF -> GGUF: take the vocabulary from PATH instead "
            + "of the model folder: a tokenizer.json (tokenizer_config.json beside it is read too), a tokenizer.model, "
            + "a folder holding one, or a GGUF whose tokenizer metadata is copied")
    Path tokenizer;

    @Option(names = "--threads", defaultValue = "0", description = "worker threads (0 = one per core)")
    int threads;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ConvertOptions o = new ConvertOptions(type == null ? null : QuantizeCommand.dtype(type), tokenizer, threads);
        long t0 = System.nanoTime();
        if (Files.isDirectory(source)) {
            if (Files.isDirectory(dest)) {
                throw new java.nio.file.FileSystemException(dest.toString(), null, "destination is a folder; name a .gguf file");
            }
            List<TensorPlan> plan = HfToGguf.convert(source, dest, o);
            for (TensorPlan p : plan) {
                out.printf(Locale.ROOT, "%-32s %-16s %5s -> %s%n", p.name(), Arrays.toString(p.shape()), p.from(), p.to());
            }
        } else if (Files.isRegularFile(source)) {
            if (tokenizer != null) {
                // GGUF -> HF writes the GGUF's own vocabulary; silently ignoring the option would mislead
                throw new IllegalArgumentException("--tokenizer applies to HF -> GGUF only; " + source
                        + " is a file, so its own vocabulary is written");
            }
            GgufToHf.convert(source, dest, o);
        } else {
            throw new java.nio.file.NoSuchFileException(source.toString(), null, "source model not found");
        }
        out.printf(Locale.ROOT, "wrote %s in %.1f s%n", dest, (System.nanoTime() - t0) / 1e9);
        out.flush();
        return 0;
    }
}
