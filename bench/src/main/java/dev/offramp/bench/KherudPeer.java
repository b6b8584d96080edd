package dev.offramp.bench;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp through the {@code de.kherud:llama} artifact (bundled natives, llama.cpp b4916, AVX2-only),
 * run in a CHILD JVM that stays up for all repetitions of one thread count: its native
 * {@code LlamaModel.close()} can hang and a native crash must not take the benchmark down. The child
 * answers one line per request on stdout; every wait on it is bounded by a timeout, after which the
 * child is killed.
 *
 * <p>The artifact has no raw decode API, only the server's completion loop, and its streamed tokens
 * reach Java in bursts (a small model's tokens queue up faster than the iterator drains them), so
 * timestamps of streamed tokens do not time decoding. Each repetition instead times two whole
 * completions of the same prompt (greedy, EOS ignored, no prompt cache): {@code T1} with one token
 * and {@code Tn} with {@code n}. pp = prompt tokens / {@code T1} (one sampling step included) and tg =
 * {@code (n - 1) / (Tn - T1)}. Sampling and detokenization are inside its timings, unlike Offramp's
 * and {@code llama-bench}'s.
 */
final class KherudPeer implements BenchSystem {

    private static final String READY = "OFFRAMP-PEER-READY";
    private static final String RESULT = "OFFRAMP-PEER-RESULT";
    /** llama.cpp build of each {@code de.kherud:llama} release we know. */
    private static final String KNOWN_BUILD_4_2_0 = "b4916";

    private final Process process;
    private final Writer toChild;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Duration timeout;
    private final Path stderr;
    private final Path childTmp;
    private final int promptTokens;

    KherudPeer(Path model, int threads, int promptTokens, int genTokens, Duration timeout)
            throws IOException, InterruptedException {
        this.timeout = timeout;
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // The child extracts libjllama.so into its own temp dir: the artifact's loader writes it to, and
        // deletes llama* files from, java.io.tmpdir, so processes sharing /tmp can unlink the library
        // another one is loading.
        childTmp = Files.createTempDirectory("offramp-bench-peer");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-Djava.io.tmpdir=" + childTmp,
                "-cp", System.getProperty("java.class.path"), KherudPeer.class.getName(), model.toString(),
                Integer.toString(threads), Integer.toString(promptTokens), Integer.toString(genTokens)));
        stderr = childTmp.resolve("peer.err");
        process = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
        toChild = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = Thread.ofPlatform().daemon().name("kherud-peer-stdout").start(() -> pump(process.getInputStream()));
        reader.setUncaughtExceptionHandler((t, e) -> { });
        String ready = await(READY);
        this.promptTokens = Integer.parseInt(ready.trim());
    }

    private void pump(InputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
            }
        } catch (IOException ignored) {
            // the child died; await() reports it with the child's stderr
        }
    }

    private String await(String mark) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left > 0 ? lines.poll(Math.min(left, 200_000_000L), TimeUnit.NANOSECONDS) : null;
            if (line != null && line.startsWith(mark + " ")) {
                return line.substring(mark.length() + 1);
            }
            if (line == null && !process.isAlive() && lines.isEmpty()) {
                throw new IOException("llama.cpp peer (de.kherud) exited with " + process.exitValue() + ":\n" + tail());
            }
            if (left <= 0) {
                close();
                throw new IOException("llama.cpp peer (de.kherud) gave no answer within " + timeout + " (killed):\n" + tail());
            }
        }
    }

    private String tail() {
        try {
            String s = Files.readString(stderr, StandardCharsets.ISO_8859_1);
            return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
        } catch (IOException e) {
            return "(no stderr: " + e.getMessage() + ")";
        }
    }

    @Override
    public String name() {
        return "llama.cpp (de.kherud)";
    }

    @Override
    public String build() {
        String v = artifactVersion();
        String b = "4.2.0".equals(v) ? KNOWN_BUILD_4_2_0 : "unknown build";
        return "llama.cpp " + b + " via de.kherud:llama " + v + " (bundled natives, AVX2, server completion loop)";
    }

    /** Prompt tokens the child's prompt really has (BOS included), which its pp figure is based on. */
    int promptTokens() {
        return promptTokens;
    }

    static String artifactVersion() {
        try (InputStream in = LlamaModel.class.getResourceAsStream("/META-INF/maven/de.kherud/llama/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "?");
            }
        } catch (IOException ignored) {
            // fall through
        }
        return "?";
    }

    @Override
    public Sample measure() throws IOException, InterruptedException {
        toChild.write("RUN\n");
        toChild.flush();
        String[] f = await(RESULT).trim().split(" ");
        return new Sample(parse(f[0]), parse(f[1]));
    }

    private static double parse(String x) {
        return x.equals("NaN") ? Double.NaN : Double.parseDouble(x);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                toChild.write("QUIT\n");
                toChild.flush();
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException ignored) {
                // killed below
            }
            process.destroyForcibly();
        }
        try (var files = Files.walk(childTmp)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException ignored) {
            // a temp file left behind is harmless
        }
    }

    // ---- child side -------------------------------------------------------------------------------

    private static final String[] WORDS = ("the of and to in is was for on that with as by at from his her "
            + "it an were are which this be or has had not but what all when we there can been one would "
            + "their more if out so up said about into than them some could time these two may first then "
            + "do any like my now over such our man me even most made after also did many before must "
            + "through back years where much your way well down should because each just those people how "
            + "too little state good very make world still own see men work long get here between both life "
            + "being under never day same another know while last might us great old year off come since "
            + "against go came right used take three").split(" ");

    /** Child entry point: {@code MODEL THREADS PROMPT_TOKENS GEN_TOKENS}; then one request per stdin line. */
    public static void main(String[] args) {
        PrintStream out = System.out;
        int status = 0;
        try {
            String model = args[0];
            int threads = Integer.parseInt(args[1]);
            int p = Integer.parseInt(args[2]);
            int n = Integer.parseInt(args[3]);
            LlamaModel m = new LlamaModel(new ModelParameters().setModel(model).setGpuLayers(0).setThreads(threads)
                    .setThreadsBatch(threads).setCtxSize(Math.max(512, p + n + 16)).setSeed(42).disableLog());
            String prompt = prompt(m, p - 1); // the server adds BOS
            int promptTokens = m.encode(prompt).length + 1;
            run(m, prompt, promptTokens, Math.min(n, 8)); // warm-up, untimed
            out.println(READY + " " + promptTokens);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && line.equals("RUN")) {
                double[] r = run(m, prompt, promptTokens, n);
                out.println(String.format(Locale.ROOT, "%s %.4f %.4f", RESULT, r[0], r[1]));
                out.flush();
            }
            // no m.close(): it can hang in the native library
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.err.flush();
        Runtime.getRuntime().halt(status);
    }

    /** Words drawn at random until the text tokenizes to {@code tokens} tokens (one word is usually one token). */
    private static String prompt(LlamaModel m, int tokens) {
        Random r = new Random(7);
        StringBuilder s = new StringBuilder();
        String best = "";
        for (int guard = 0; guard < 4 * tokens + 64; guard++) {
            int have = m.encode(s.toString()).length;
            if (have == tokens) {
                return s.toString();
            }
            if (have > tokens) {
                return best.isEmpty() ? s.toString() : best;
            }
            best = s.toString();
            s.append(s.isEmpty() ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
        }
        return s.toString();
    }

    private static double[] run(LlamaModel m, String prompt, int promptTokens, int n) {
        long t1 = complete(m, prompt, 1);
        long tn = complete(m, prompt, n);
        double pp = promptTokens * 1e9 / t1;
        // a tiny model decodes n tokens within the noise of T1: no figure rather than an absurd one
        double tg = tn - t1 > t1 / 20 ? (n - 1) * 1e9 / (tn - t1) : Double.NaN;
        return new double[]{pp, tg};
    }

    /** Nanoseconds for a whole greedy completion of {@code n} tokens, checking that all {@code n} came. */
    private static long complete(LlamaModel m, String prompt, int n) {
        InferenceParameters ip = new InferenceParameters(prompt).setNPredict(n).setTemperature(0f).setTopK(1)
                .setRepeatPenalty(1.0f).setIgnoreEos(true).setCachePrompt(false).setSeed(42);
        long t0 = System.nanoTime();
        int count = 0;
        for (LlamaOutput ignored : m.generate(ip)) {
            count++;
        }
        long t = System.nanoTime() - t0;
        if (count < n - 1) { // the last token may come with the final (stop) message or after it
            throw new IllegalStateException("peer generated " + count + " outputs, expected " + n);
        }
        return t;
    }
}
