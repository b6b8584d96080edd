package dev.offramp.hardening;

import dev.offramp.cli.OfframpCli;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The {@code offramp} command run in-process (picocli's {@code execute}, never {@code System.exit})
 * with seeded mutations of valid command lines: dropped, duplicated and swapped arguments, hostile
 * numbers (negative, zero, 2^31-1, NaN), empty strings, missing or wrong files, unknown options.
 * Each run ends with exit code 0, or 2 and a short message on stderr (picocli's usage errors, or
 * {@code offramp: ...} for bad input) — never code 1 (an unexpected exception and its stack trace),
 * a hang, or an Error.
 */
class CliArgsFuzzTest {

    private static final int CASES = Integer.getInteger("offramp.fuzz.cliCases", 300);
    private static final long SEED = Long.getLong("offramp.fuzz.seed", 20261122L);

    @TempDir
    Path tmp;

    @Test
    void mutatedCommandLinesFailCleanly() throws Exception {
        java.util.logging.Logger quiet = java.util.logging.Logger.getLogger("dev.offramp");
        quiet.setLevel(java.util.logging.Level.SEVERE);
        String model = Fixtures.model("stories260K.gguf").toString();
        String vocab = Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-spm.gguf").toString();
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "Once upon a time there was a little girl. She liked to play.\n".repeat(8));
        Path notAModel = tmp.resolve("not-a-model.gguf");
        Files.writeString(notAModel, "GGUF but not really");
        List<List<String>> bases = List.of(
                List.of("generate", "-m", model, "-p", "Once upon a time", "-n", "4", "-t", "2"),
                List.of("generate", "-m", model, "-p", "The dog", "-n", "3", "--temp", "0.8", "--seed", "5",
                        "--top-k", "10", "--stop", "the", "-c", "64", "-t", "1"),
                List.of("inspect", model),
                List.of("inspect", model, "--json"),
                List.of("synth", "smollm-135m", "--layers", "2", "--type", "Q8_0", "--vocab", vocab, "--dry-run"),
                List.of("perplexity", "-m", model, "-f", text.toString(), "-c", "64", "--chunks", "1", "-t", "2"),
                List.of("--version"),
                List.of("help", "generate"));
        String[] hostile = {"-1", "0", "1", "2147483647", "-2147483648", "99999999999", "NaN", "Infinity", "-0.0",
                "1e39", "", " ", "abc", "--", "-", "--n-predict", "\u0000", "/nonexistent/file.gguf", tmp.toString(),
                notAModel.toString(), "/dev/null", "q4_k", "F32", "bogus-shape", "--unknown-option", "-Z",
                "x".repeat(5000)};
        String[] options = {"-n", "-c", "-t", "--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty",
                "--repeat-last-n", "--seed", "--kv-type", "--context-full", "--stop", "--tokenizer", "--layers",
                "--type", "--chunks", "-b", "--backend", "--inert-from", "--json", "--ignore-eos", "-m", "-p", "-f"};
        int[] codes = new int[3];
        long t0 = System.nanoTime();
        CommandLine once = OfframpCli.commandLine();
        // inputs that once ended in an Error or a stack trace, kept as fixed regression cases
        for (List<String> args : List.of(
                List.of("generate", "-m", model, "-p", "x", "-n", "2", "--backend", "2147483647"),  // exit 1
                List.of("generate", "-m", model, "-p", "x", "-n", "2", "-t", "2147483647"),         // OOM
                List.of("generate", "-m", model, "-p", "x", "-n", "2", "-c", "2147483647"),
                // 60M positions x 32 KV values fit a Java array per layer: 77 GB of KV arrays (OOM)
                List.of("generate", "-m", model, "-p", "x", "-n", "2", "-c", "60000000"))) {
            assertThat(runCase(once, new ArrayList<>(args), -1)).as("%s", args).isEqualTo(2);
        }
        int batch = 50;
        // one command line for every case, as picocli allows: it resets options to their defaults per parse
        CommandLine cl = OfframpCli.commandLine();
        for (int start = 0; start < CASES; start += batch) {
            int from = start;
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (int c = from; c < Math.min(CASES, from + batch); c++) {
                    Random rnd = new Random(caseSeed(SEED * 1_000_003L + c));
                    List<String> args = new ArrayList<>(bases.get(rnd.nextInt(bases.size())));
                    for (int r = rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(2); r > 0; r--) {
                        mutate(args, rnd, hostile, options);
                    }
                    codes[runCase(cl, args, c)]++;
                }
            }, () -> "CLI cases " + from + ".. (seed " + SEED + ") ran over 60 s");
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf(Locale.ROOT, "fuzz %-22s %6d cases (%d exit 0, %d exit 2) in %6d ms = %8.0f cases/s%n",
                "cli-args", CASES, codes[0], codes[2], ms, CASES * 1000.0 / ms);
        assertThat(codes[0]).isPositive();
        assertThat(codes[2]).isPositive();
    }

    /** SplitMix64's finalizer: java.util.Random's first draws from consecutive seeds are nearly equal. */
    static long caseSeed(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static int runCase(CommandLine cl, List<String> args, int c) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        String name = "cli case " + c + " (seed " + SEED + ") " + args.stream()
                .map(a -> a.length() > 40 ? a.substring(0, 40) + "..." : a).toList();
        int code;
        long t0 = System.nanoTime();
        try {
            code = cl.execute(args.toArray(String[]::new));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (ms > 1000) {
                System.out.println("slow: " + ms + " ms " + name);
            }
        } catch (Throwable t) {
            throw new AssertionError(name + ": escaped the command: " + t, t);
        }
        String e = err.toString();
        if (code == 0) {
            return 0;
        }
        if (code != 2 || e.isBlank() || e.contains("\tat ")) {
            throw new AssertionError(name + ": exit " + code + ", stderr:\n" + e);
        }
        return 2;
    }

    private static void mutate(List<String> args, Random rnd, String[] hostile, String[] options) {
        int n = args.size();
        switch (rnd.nextInt(7)) {
            case 0 -> { // an option's value becomes hostile
                int i = rnd.nextInt(n);
                args.set(i, hostile[rnd.nextInt(hostile.length)]);
            }
            case 1 -> { // an option with a hostile value is added
                args.add(rnd.nextInt(n + 1), options[rnd.nextInt(options.length)]);
                int at = Math.min(args.size(), 1 + args.indexOf(args.get(0)) + rnd.nextInt(args.size()));
                args.add(Math.min(at, args.size()), hostile[rnd.nextInt(hostile.length)]);
            }
            case 2 -> { // drop one
                if (n > 1) {
                    args.remove(1 + rnd.nextInt(n - 1));
                }
            }
            case 3 -> { // duplicate one
                int i = rnd.nextInt(n);
                args.add(i, args.get(i));
            }
            case 4 -> { // swap two
                int i = rnd.nextInt(n);
                int j = rnd.nextInt(n);
                String a = args.get(i);
                args.set(i, args.get(j));
                args.set(j, a);
            }
            case 5 -> { // a known option gets a numeric extreme
                args.add(options[rnd.nextInt(options.length)]);
                args.add(hostile[rnd.nextInt(6)]);
            }
            default -> { // truncate
                args.subList(1 + rnd.nextInt(Math.max(1, n - 1)), n).clear();
            }
        }
        // a generation that is asked to run forever would only test patience: bound the token count
        for (int i = 0; i + 1 < args.size(); i++) {
            if ((args.get(i).equals("-n") || args.get(i).equals("--n-predict")) && args.get(i + 1).length() > 3
                    && args.get(i + 1).matches("\\d+")) {
                args.set(i + 1, "64");
            }
        }
        if (args.isEmpty()) {
            args.addAll(Arrays.asList("help"));
        }
    }
}
