package dev.offramp.loader.fuzz;

import java.time.Duration;
import java.util.Locale;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Runs seeded fuzz cases in batches under a preemptive timeout and keeps the tally. A case either
 * returns (accepted) or throws; a throwable that {@code documented} does not accept fails the run
 * with the seed and case number, so it can be replayed with {@code -Dofframp.fuzz.seed=S}.
 *
 * <p>The batch timeout is what turns an endless loop into a test failure instead of a hung build:
 * {@code assertTimeoutPreemptively} runs the batch on another thread and abandons it.
 */
final class FuzzRun {

    /** Base seed for every fuzz suite in this package. */
    static final long SEED = Long.getLong("offramp.fuzz.seed", 20261122L);
    /** Multiplies every suite's case count (e.g. 10 for a long local run). */
    static final int SCALE = Integer.getInteger("offramp.fuzz.scale", 1);

    /** One fuzz case: build the input from {@code rnd}, run it, return normally or throw. */
    @FunctionalInterface
    interface Case {
        void run(java.util.Random rnd, String name) throws Throwable;
    }

    /** Held so the level sticks: warnings about odd-but-legal inputs would flood the build log. */
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("dev.offramp");

    static {
        QUIET.setLevel(java.util.logging.Level.SEVERE);
    }

    private final String suite;
    private int accepted;
    private int rejected;

    FuzzRun(String suite) {
        this.suite = suite;
    }

    /**
     * Runs {@code cases * SCALE} cases. {@code documented} tells a clean rejection (a documented
     * exception whose message names the input and the field) from a defect.
     */
    FuzzRun run(int cases, int batch, Duration batchLimit, Case body, Predicate<Throwable> documented) {
        int total = cases * SCALE;
        long t0 = System.nanoTime();
        long peakHeap = 0;
        for (int start = 0; start < total; start += batch) {
            int from = start;
            int to = Math.min(total, start + batch);
            assertTimeoutPreemptively(batchLimit, () -> {
                for (int c = from; c < to; c++) {
                    java.util.Random rnd = new java.util.Random(caseSeed(SEED * 1_000_003L + suite.hashCode() * 31L + c));
                    String name = "fuzz-" + suite + "-case-" + c;
                    try {
                        body.run(rnd, name);
                        accepted++;
                    } catch (Throwable t) {
                        if (t instanceof VirtualMachineError || !documented.test(t)) {
                            throw new AssertionError(name + " (seed " + SEED + "): undocumented failure " + t, t);
                        }
                        if (t.getMessage() == null || !t.getMessage().contains(name)) {
                            throw new AssertionError(name + " (seed " + SEED + "): message does not name the input: "
                                    + t.getMessage(), t);
                        }
                        rejected++;
                    }
                }
            }, () -> suite + ": cases " + from + ".." + to + " (seed " + SEED + ") ran over " + batchLimit);
            Runtime rt = Runtime.getRuntime();
            peakHeap = Math.max(peakHeap, rt.totalMemory() - rt.freeMemory()); // sampled after each batch
        }
        long ns = System.nanoTime() - t0;
        // The figure goes into docs/reliability.md; stdout is fine in a test.
        System.out.printf(Locale.ROOT, "fuzz %-22s %6d cases (%d accepted, %d rejected) in %6d ms = %8.0f cases/s, "
                + "heap in use after a batch <= %d MiB%n", suite, total, accepted, rejected, ns / 1_000_000, total * 1e9 / ns,
                peakHeap >> 20);
        return this;
    }

    static long caseSeed(long z) {
        return FuzzSeeds.caseSeed(z);
    }

    int accepted() {
        return accepted;
    }

    int rejected() {
        return rejected;
    }
}
