package dev.offramp.hardening;

import dev.offramp.cli.OfframpCli;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nothing lost: a writer killed with SIGKILL ({@code destroyForcibly}) in the middle of writing
 * leaves the destination exactly as it was — every writer fills a temp file in the target folder and
 * renames it over the destination only when complete. Checked for {@code offramp synth} and
 * {@code offramp quantize} (GgufWriter, which convert also uses) and the safetensors writer, each
 * in a child JVM killed while its temp file grows.
 */
class InterruptedWriteTest {

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void synthKilledMidWriteLeavesTheOldFile() throws Exception {
        String vocab = Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-spm.gguf").toString();
        Path dest = tmp.resolve("model.gguf");
        Files.copy(Fixtures.model("stories260K.gguf"), dest);
        // SmolLM-135M at F32 with 6 layers: ~300 MB, several seconds of writing on this machine
        killMidWrite("synth", dest, OfframpCli.class.getName(), "synth", "smollm-135m", "--type", "F32", "--layers", "6",
                "--vocab", vocab, "-o", dest.toString());
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void quantizeKilledMidWriteLeavesTheOldFile() throws Exception {
        Path dest = tmp.resolve("q.gguf");
        Files.copy(Fixtures.model("stories260K.gguf"), dest);
        killMidWrite("quantize", dest, OfframpCli.class.getName(), "quantize",
                Fixtures.model("trained/stories-ee12-F32.gguf").toString(), dest.toString(), "--type", "Q4_K",
                "--quiet", "--threads", "1");
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void safetensorsWriterKilledMidWriteLeavesTheOldFile() throws Exception {
        Path dest = tmp.resolve("model.safetensors");
        Files.copy(Fixtures.model("derived/stories260K-hf/model.safetensors"), dest);
        killMidWrite("safetensors writer", dest, SlowSafetensorsWriterMain.class.getName(), dest.toString());
    }

    private void killMidWrite(String label, Path dest, String main, String... args) throws Exception {
        byte[] before = Files.readAllBytes(dest);
        String hash = sha256(before);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-Dofframp.shared=" + System.getProperty("offramp.shared", ""),
                "-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child-" + System.nanoTime() + ".log").toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        long t0 = System.nanoTime();
        Process p = pb.start();
        long tempBytes = -1;
        try {
            // wait until the temp file holds some data, then kill without warning
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline && p.isAlive()) {
                long size = tempSize(dest);
                if (size > (1 << 20)) {
                    tempBytes = size;
                    break;
                }
                Thread.sleep(5);
            }
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        byte[] after = Files.readAllBytes(dest);
        if (tempBytes < 0) {
            // the child finished before the poll caught it (a fast machine): then the destination must be
            // the complete new file, which the reopen below checks; never a mix of old and new
            assertThat(p.exitValue()).as("a writer that was not killed succeeded").isZero();
            System.out.printf(Locale.ROOT, "%s finished in %d ms before it could be killed: destination replaced "
                    + "whole%n", label, ms);
        } else {
            assertThat(sha256(after)).as("destination after the kill").isEqualTo(hash);
        }
        // and it still opens as what it was
        if (dest.toString().endsWith(".gguf")) {
            try (GgufFile g = GgufFile.open(dest)) {
                assertThat(g.tensors()).isNotEmpty();
            }
        } else {
            try (SafetensorsFile f = SafetensorsFile.open(dest)) {
                assertThat(f.tensors()).isNotEmpty();
            }
        }
        long litter;
        try (Stream<Path> s = Files.list(dest.getParent())) {
            litter = s.filter(f -> f.getFileName().toString().endsWith(".tmp")).count();
        }
        if (tempBytes < 0) {
            return;
        }
        System.out.printf(Locale.ROOT, "killed %s after %d ms with %d bytes in its temp file: destination unchanged "
                + "(sha256 %s...), %d temp file(s) left behind%n", label, ms, tempBytes, hash.substring(0, 12), litter);
    }

    /** Size of the writer's temp file ({@code .NAME.*.tmp} beside the destination), or -1. */
    private static long tempSize(Path dest) throws Exception {
        String prefix = "." + dest.getFileName() + ".";
        try (Stream<Path> s = Files.list(dest.getParent())) {
            return s.filter(f -> f.getFileName().toString().startsWith(prefix) && f.toString().endsWith(".tmp"))
                    .mapToLong(f -> {
                        try {
                            return Files.size(f);
                        } catch (Exception e) {
                            return -1;
                        }
                    }).max().orElse(-1);
        }
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
