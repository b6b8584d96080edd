package dev.offramp.loader.gguf;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp (the {@code de.kherud:llama} artifact, build b4916) as a test oracle, run in a CHILD JVM
 * with a timeout: its native {@code LlamaModel.close()} may never return, and a native crash must
 * not take the test JVM down. The child answers on stdout and halts without closing the model.
 *
 * <pre>{@code
 * String text = LlamaCppPeer.greedy(Path.of("stories260K.gguf"), "Once upon a time", 20);
 * int[] ids = LlamaCppPeer.encode(Path.of("stories260K.gguf"), "Once upon a time");  // no BOS
 * }</pre>
 */
public final class LlamaCppPeer {

    private static final String MARK = "OFFRAMP-PEER-RESULT:";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private LlamaCppPeer() {
    }

    /** Greedy completion (temperature 0, top-k 1, repeat penalty 1) of {@code prompt}; the prompt is not echoed. */
    public static String greedy(Path model, String prompt, int tokens) throws IOException, InterruptedException {
        return new String(run(DEFAULT_TIMEOUT, "greedy", model.toString(), Integer.toString(tokens), prompt),
                StandardCharsets.UTF_8);
    }

    /** llama.cpp's tokenization of {@code text} (no BOS added). */
    public static int[] encode(Path model, String text) throws IOException, InterruptedException {
        String s = new String(run(DEFAULT_TIMEOUT, "encode", model.toString(), "0", text), StandardCharsets.UTF_8).trim();
        return s.isEmpty() ? new int[0] : Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /**
     * Runs the child and returns its payload. Fails with an {@link IOException} carrying the tail of
     * the child's stderr when it exits badly or runs past {@code timeout} (then it is killed).
     */
    public static byte[] run(Duration timeout, String... args) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // Each child extracts libjllama.so into its own temp dir: the library's loader writes it to,
        // and deletes llama* files from, java.io.tmpdir, so two children (or two test runs) sharing
        // /tmp can unlink or overwrite the library another one is loading (seen as exit 134).
        Path childTmp = Files.createTempDirectory("offramp-peer-tmp");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-Djava.io.tmpdir=" + childTmp, "-cp", System.getProperty("java.class.path"), LlamaCppPeer.class.getName()));
        cmd.addAll(List.of(args));
        Path err = childTmp.resolve("peer.err");
        Path out = childTmp.resolve("peer.out");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(out.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IOException("llama.cpp peer timed out after " + timeout + ": " + String.join(" ", args)
                        + "\n" + tail(err));
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            int at = stdout.lastIndexOf(MARK);
            if (p.exitValue() != 0 || at < 0) {
                throw new IOException("llama.cpp peer failed (exit " + p.exitValue() + "): " + String.join(" ", args)
                        + "\n" + tail(err));
            }
            String payload = stdout.substring(at + MARK.length()).trim();
            return Base64.getDecoder().decode(payload);
        } finally {
            try (var files = Files.walk(childTmp)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private static String tail(Path f) throws IOException {
        String s = Files.readString(f, StandardCharsets.ISO_8859_1);
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    /** Child entry point: {@code MODE MODEL N TEXT}. */
    public static void main(String[] args) {
        PrintStream stdout = System.out;
        int status = 0;
        try {
            String mode = args[0];
            ModelParameters mp = new ModelParameters().setModel(args[1]).setGpuLayers(0).setThreads(1)
                    .setCtxSize(512).setSeed(42).disableLog();
            LlamaModel model = new LlamaModel(mp);
            String result = switch (mode) {
                case "greedy" -> model.complete(new InferenceParameters(args[3]).setNPredict(Integer.parseInt(args[2]))
                        .setTemperature(0f).setTopK(1).setRepeatPenalty(1.0f).setSeed(42));
                case "encode" -> String.join(",", Arrays.stream(model.encode(args[3])).mapToObj(Integer::toString).toList());
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            };
            stdout.println(MARK + Base64.getEncoder().encodeToString(result.getBytes(StandardCharsets.UTF_8)));
            stdout.flush();
            // no model.close(): it can hang in the native library
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.err.flush();
        Runtime.getRuntime().halt(status);
    }
}
