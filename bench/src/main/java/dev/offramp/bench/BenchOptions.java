package dev.offramp.bench;

import dev.offramp.core.tensor.DType;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What one end-to-end benchmark run measures.
 *
 * <pre>{@code
 * BenchOptions o = BenchOptions.defaults().withThreads(List.of(1, 2)).withReps(5);
 * BenchReport r = new EndToEndBench(o).run();
 * }</pre>
 *
 * @param model        GGUF to measure; null = synthesize {@code shape} at {@code type} (cached in {@code cacheDir})
 * @param shape        synthetic shape name ({@code tinyllama-1.1b}, {@code smollm-135m}, ...)
 * @param type         weight type of the synthetic model
 * @param seed         synthetic weights seed
 * @param vocab        GGUF to borrow the tokenizer from for the synthetic model; null = find the shape's usual one
 * @param cacheDir     where synthetic models are kept between runs
 * @param threads      thread counts, measured one after the other
 * @param reps         timed repetitions per system (interleaved across systems)
 * @param promptTokens prefill size (llama-bench {@code -p})
 * @param genTokens    decode size (llama-bench {@code -n})
 * @param backend      Offramp backend name; null = the preferred one
 * @param kherudPeer   also measure the {@code de.kherud:llama} peer (child JVM)
 * @param llamaBench   a native {@code llama-bench} binary to measure too; null = none
 * @param llamaBenchLabel what that binary is (source commit, flags), for the report; null = only what it says itself
 * @param peerTimeout  how long a peer may take for one repetition (its load included) before it is killed
 * @param bandwidthBytes size of the buffer the read-bandwidth probe streams (much larger than the LLC)
 * @param progress     show a progress bar on stderr
 */
public record BenchOptions(Path model, String shape, DType type, long seed, Path vocab, Path cacheDir,
                           List<Integer> threads, int reps, int promptTokens, int genTokens, String backend,
                           boolean kherudPeer, Path llamaBench, String llamaBenchLabel, Duration peerTimeout,
                           long bandwidthBytes, boolean progress) {

    public BenchOptions {
        Objects.requireNonNull(threads, "threads");
        threads = List.copyOf(threads);
        if (model == null && shape == null) {
            throw new IllegalArgumentException("give a model file or a synthetic shape");
        }
        if (threads.isEmpty() || threads.stream().anyMatch(t -> t < 1)) {
            throw new IllegalArgumentException("thread counts must be >= 1, got " + threads);
        }
        if (reps < 1) {
            throw new IllegalArgumentException("--reps must be >= 1, got " + reps);
        }
        if (promptTokens < 2 || genTokens < 2) {
            throw new IllegalArgumentException("prompt (-p) and generated (-n) sizes must be >= 2, got "
                    + promptTokens + " and " + genTokens);
        }
        if (bandwidthBytes < (1 << 20)) {
            throw new IllegalArgumentException("bandwidth buffer must be at least 1 MiB, got " + bandwidthBytes);
        }
        Objects.requireNonNull(peerTimeout, "peerTimeout");
    }

    /** The default: synthetic TinyLlama-1.1B Q4_0, pp128 / tg64, one run per core count, 5 reps. */
    public static BenchOptions defaults() {
        return new BenchOptions(null, "tinyllama-1.1b", DType.Q4_0, 0L, null, defaultCacheDir(),
                List.of(Runtime.getRuntime().availableProcessors()), 5, 128, 64, null, true, null, null,
                Duration.ofMinutes(5), 1L << 30, true);
    }

    /** {@code $OFFRAMP_CACHE/synth}, else {@code ~/.cache/offramp/synth}. */
    public static Path defaultCacheDir() {
        String env = System.getenv("OFFRAMP_CACHE");
        Path base = env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "offramp");
        return base.resolve("synth");
    }

    public BenchOptions withModel(Path m) {
        return new BenchOptions(m, shape, type, seed, vocab, cacheDir, threads, reps, promptTokens, genTokens, backend,
                kherudPeer, llamaBench, llamaBenchLabel, peerTimeout, bandwidthBytes, progress);
    }

    public BenchOptions withThreads(List<Integer> t) {
        return new BenchOptions(model, shape, type, seed, vocab, cacheDir, t, reps, promptTokens, genTokens, backend,
                kherudPeer, llamaBench, llamaBenchLabel, peerTimeout, bandwidthBytes, progress);
    }

    public BenchOptions withReps(int r) {
        return new BenchOptions(model, shape, type, seed, vocab, cacheDir, threads, r, promptTokens, genTokens, backend,
                kherudPeer, llamaBench, llamaBenchLabel, peerTimeout, bandwidthBytes, progress);
    }

    public BenchOptions withSizes(int p, int n) {
        return new BenchOptions(model, shape, type, seed, vocab, cacheDir, threads, reps, p, n, backend,
                kherudPeer, llamaBench, llamaBenchLabel, peerTimeout, bandwidthBytes, progress);
    }

    public BenchOptions withPeers(boolean kherud, Path nativeBench) {
        return new BenchOptions(model, shape, type, seed, vocab, cacheDir, threads, reps, promptTokens, genTokens,
                backend, kherud, nativeBench, llamaBenchLabel, peerTimeout, bandwidthBytes, progress);
    }

    public BenchOptions withBandwidthBytes(long b) {
        return new BenchOptions(model, shape, type, seed, vocab, cacheDir, threads, reps, promptTokens, genTokens,
                backend, kherudPeer, llamaBench, llamaBenchLabel, peerTimeout, b, progress);
    }

    public BenchOptions withProgress(boolean p) {
        return new BenchOptions(model, shape, type, seed, vocab, cacheDir, threads, reps, promptTokens, genTokens,
                backend, kherudPeer, llamaBench, llamaBenchLabel, peerTimeout, bandwidthBytes, p);
    }
}
