package dev.offramp.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A native {@code llama-bench} binary (e.g. an AVX-512/VNNI build of upstream llama.cpp), run once per
 * repetition with {@code -r 1 -o json} so its repetitions interleave with the other systems'. Each
 * call loads the model (mmap, page cache warm) and does llama-bench's own warm-up before timing.
 */
final class LlamaBenchPeer implements BenchSystem {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path binary;
    private final Path model;
    private final int threads;
    private final int promptTokens;
    private final int genTokens;
    private final Duration timeout;
    private final String label;
    private String build;

    /**
     * @param label what the user says the binary is (e.g. its source commit), added to the build that
     *              llama-bench reports about itself, which is {@code unknown} for builds made outside git
     */
    LlamaBenchPeer(Path binary, Path model, int threads, int promptTokens, int genTokens, Duration timeout,
                   String label) {
        if (!Files.isExecutable(binary)) {
            throw new IllegalArgumentException("--llama-bench " + binary + ": not an executable file");
        }
        this.binary = binary;
        this.model = model;
        this.threads = threads;
        this.promptTokens = promptTokens;
        this.genTokens = genTokens;
        this.timeout = timeout;
        this.label = label;
        this.build = "llama.cpp native llama-bench " + binary + (label != null ? " [" + label + "]" : "");
    }

    @Override
    public String name() {
        return "llama.cpp (native)";
    }

    @Override
    public String build() {
        return build;
    }

    @Override
    public Sample measure() throws IOException, InterruptedException {
        List<String> cmd = List.of(binary.toString(), "-m", model.toString(), "-t", Integer.toString(threads),
                "-p", Integer.toString(promptTokens), "-n", Integer.toString(genTokens), "-r", "1", "-o", "json");
        Path out = Files.createTempFile("offramp-bench-native", ".json");
        Path err = Files.createTempFile("offramp-bench-native", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IOException("llama-bench timed out after " + timeout + ": " + String.join(" ", cmd));
            }
            if (p.exitValue() != 0) {
                String e = Files.readString(err, StandardCharsets.ISO_8859_1);
                throw new IOException("llama-bench failed (exit " + p.exitValue() + "): " + String.join(" ", cmd) + "\n"
                        + (e.length() > 3000 ? e.substring(e.length() - 3000) : e));
            }
            Result r = parse(Files.readString(out, StandardCharsets.UTF_8));
            build = r.build + " (native llama-bench " + binary + (label != null ? "; " + label : "") + ")";
            return r.sample;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    record Result(Sample sample, String build) {
    }

    /**
     * Reads {@code llama-bench -o json}: an array with one object per test; the prompt test has
     * {@code n_gen == 0}, the generation test {@code n_prompt == 0}; {@code avg_ts} is tokens/s.
     */
    static Result parse(String json) throws IOException {
        JsonNode root = JSON.readTree(json);
        if (root == null || !root.isArray()) {
            throw new IOException("llama-bench output is not a JSON array: "
                    + (json.length() > 200 ? json.substring(0, 200) + "..." : json));
        }
        double pp = Double.NaN;
        double tg = Double.NaN;
        String build = "llama.cpp (unknown build)";
        for (JsonNode t : root) {
            int nPrompt = t.path("n_prompt").asInt(-1);
            int nGen = t.path("n_gen").asInt(-1);
            if (!t.has("avg_ts")) {
                throw new IOException("llama-bench result without avg_ts: " + t);
            }
            double ts = t.path("avg_ts").asDouble();
            if (nPrompt > 0 && nGen == 0) {
                pp = ts;
            } else if (nGen > 0 && nPrompt == 0) {
                tg = ts;
            }
            if (t.has("build_number") || t.has("build_commit")) {
                String commit = t.path("build_commit").asText("unknown");
                int number = t.path("build_number").asInt(0);
                // a source tree without git metadata builds as "unknown" / 0: say so rather than "b0"
                build = (number == 0 && commit.equals("unknown") ? "llama.cpp (no build id: built outside git)"
                        : "llama.cpp b" + number + " (" + commit + ")")
                        + (t.hasNonNull("cpu_info") ? " on " + t.path("cpu_info").asText() : "");
            }
        }
        if (Double.isNaN(pp) || Double.isNaN(tg)) {
            throw new IOException("llama-bench output lacks a pp or tg result: " + json);
        }
        return new Result(new Sample(pp, tg), build);
    }

    @Override
    public void close() {
        // nothing stays up between repetitions
    }
}
