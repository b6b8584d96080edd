package dev.offramp.cli;

import dev.offramp.bench.BenchArgs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code offramp bench}: Offramp against llama.cpp on the same GGUF, same threads, in the same run
 * (a thin shell over {@link dev.offramp.bench.EndToEndBench}; the flags are those of
 * {@code java -jar offramp-bench.jar}). With no arguments: synthetic TinyLlama-1.1B Q4_0, pp128/tg64.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        description = {"Benchmark Offramp against llama.cpp on the same model, threads and run:",
                "prefill (pp) and decode (tg) tokens/s, Offramp/llama.cpp ratios, the",
                "weight-streaming GB/s and the fraction of the machine's read bandwidth",
                "measured in the same run. Progress on stderr, report on stdout."})
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    BenchArgs args = new BenchArgs();

    @Override
    public Integer call() throws Exception {
        return args.run(spec.commandLine().getOut(), System.err);
    }
}
