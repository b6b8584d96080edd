package dev.offramp.bench;

import java.util.List;
import java.util.Optional;

/**
 * The outcome of one {@code offramp bench} run.
 *
 * @param model          the GGUF measured
 * @param label          shape name or file name
 * @param weightTypes    weight types in the file ({@code Q4_0 x 155, Q8_0 x 1, F32 x 45})
 * @param weightBytesPerToken weight bytes a decoded token reads
 * @param promptTokens   pp size
 * @param genTokens      tg size
 * @param reps           timed repetitions per system
 * @param machine        CPU count, vector width, JDK
 * @param runs           one per thread count
 */
public record BenchReport(String model, String label, String weightTypes, long weightBytesPerToken, int promptTokens,
                          int genTokens, int reps, String machine, List<ThreadRun> runs) {

    public BenchReport {
        runs = List.copyOf(runs);
    }

    /** The run the headline fields describe: the one with the most threads. */
    public Optional<ThreadRun> headline() {
        return runs.stream().max(java.util.Comparator.comparingInt(ThreadRun::threads));
    }
}
