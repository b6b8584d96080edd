package dev.offramp.kernels.cpu;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Without {@code --add-modules jdk.incubator.vector} the backend must run on its scalar kernels, log
 * one warning, and never load a Vector API class (that would throw {@code NoClassDefFoundError}).
 * Checked in a child JVM started without the flag, with class loading logged.
 */
class ScalarFallbackTest {

    @Test
    void scalarKernelsServeWithOneWarningAndNoVectorClassLoaded() throws Exception {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(javaBin.toString(), "-Xlog:class+load=info:stdout",
                "-cp", System.getProperty("java.class.path"), ScalarFallbackMain.class.getName()));
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.redirectErrorStream(false);
        Process p = pb.start();
        byte[] errBytes;
        byte[] outBytes;
        try (var out = p.getInputStream(); var err = p.getErrorStream()) {
            // stdout is large (class-load log): drain it on this thread, stderr in a helper
            var errTask = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return err.readAllBytes();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            outBytes = out.readAllBytes();
            errBytes = errTask.get(60, TimeUnit.SECONDS);
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String stdout = new String(outBytes, StandardCharsets.UTF_8);
        String stderr = new String(errBytes, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(stderr).isZero();
        assertThat(stdout).contains("RESULT 9.0 21.0 vectorized=false desc=cpu: 2 threads, scalar kernels");
        assertThat(stdout.lines().filter(l -> l.contains("RESULT")).count()).isEqualTo(2);
        assertThat(stdout.lines().filter(l -> l.contains("jdk.incubator.vector") || l.contains("VectorKernelSet")
                || l.contains("MatmulVector") || l.contains("MatmulWiden") || l.contains("VectorOps") || l.contains("simd.Lanes")).toList())
                .as("Vector API classes loaded in scalar mode").isEmpty();
        assertThat(stderr.split("jdk.incubator.vector is not available", -1)).as(stderr).hasSize(2);
    }
}
