package dev.offramp.bench;

import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Encoding 1 MiB of English text (the held-out TinyStories text of the shared fixtures, repeated)
 * with the vocabularies of the shared fixtures; the goal is well under a second per MiB. The peer in
 * the same run is {@link #utf8Floor}: converting the same text to UTF-8 bytes, the least any
 * encoder must do. Decoding the produced ids back is measured too.
 *
 * <p>On a shared, oversubscribed machine wall time mostly measures waiting for a core, so
 * {@link #encode1MiBCpu} also reports the benchmark thread's CPU time: read its
 * {@code :cpuMicros} / {@code :calls} rows (totals per iteration) and divide.
 *
 * <pre>
 * java -jar bench/target/offramp-bench.jar jmh TokenizerBench -Dofframp.shared=/path/to/shared
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class TokenizerBench {

    /** Fixture vocabulary: Llama 3 byte-level BPE, Llama 2 SentencePiece, GPT-2, DeepSeek LLM. */
    @Param({"random/tiny-llama3-vocab.gguf", "llama.cpp-vocab/ggml-vocab-llama-spm.gguf",
            "llama.cpp-vocab/ggml-vocab-gpt-2.gguf", "llama.cpp-vocab/ggml-vocab-deepseek-llm.gguf"})
    public String vocab;

    private Tokenizer tokenizer;
    private String text;
    private int[] ids;

    static Path shared() {
        String prop = System.getProperty("offramp.shared");
        if (prop != null) {
            return Path.of(prop);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("models"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("../shared/models not found; pass -Dofframp.shared=PATH");
    }

    @Setup
    public void setup() throws IOException {
        Path models = shared().resolve("models");
        try (GgufFile f = GgufFile.open(models.resolve(vocab))) {
            tokenizer = GgufTokenizers.fromMetadata(f.metadata().entries(), vocab);
        }
        String stories = Files.readString(models.resolve("trained/stories-ee12-valid.txt"), StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(1 << 20);
        while (sb.length() < (1 << 20)) {
            sb.append(stories);
        }
        text = sb.substring(0, 1 << 20);
        ids = tokenizer.encode(text, false, false);
    }

    @Benchmark
    public int[] encode1MiB() {
        return tokenizer.encode(text, false, false);
    }

    @Benchmark
    public String decode1MiB() {
        return tokenizer.decode(ids, false);
    }

    /** CPU time of the benchmark thread (JMH reports these totals per iteration). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuTime {
        private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
        public long cpuMicros;
        public long calls;
    }

    @Benchmark
    public int[] encode1MiBCpu(CpuTime cpu) {
        long c0 = CpuTime.MX.getCurrentThreadCpuTime();
        int[] r = tokenizer.encode(text, false, false);
        cpu.cpuMicros += (CpuTime.MX.getCurrentThreadCpuTime() - c0) / 1000;
        cpu.calls++;
        return r;
    }

    @Benchmark
    public byte[] utf8Floor() {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
