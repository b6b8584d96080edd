package dev.offramp.hardening;

import dev.offramp.core.LoadOptions;
import dev.offramp.core.Models;
import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Weight;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.generate.Generation;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.Session;
import dev.offramp.core.generate.SessionOptions;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.kernels.cpu.CpuBackend;
import dev.offramp.loader.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * close() gives everything back: the mapped file leaves /proc/self/maps and no backend worker
 * thread survives. Closed objects refuse work with an {@link IllegalStateException}, and closing a
 * model (unmapping its weights) while another thread is inside a kernel ends that generation with an
 * IllegalStateException — weights are read through bounds- and liveness-checked segments of a shared
 * arena, never raw addresses, so there is no way to reach unmapped memory.
 */
class LifecycleTest {

    @TempDir
    Path tmp;

    /** The model under a private name, so another test's mapping of the fixture cannot confuse /proc/self/maps. */
    private Path privateCopy(String rel) throws Exception {
        Path p = tmp.resolve("lifecycle-" + System.nanoTime() + "-" + Path.of(rel).getFileName());
        Files.copy(Fixtures.model(rel), p);
        return p;
    }

    static Set<Thread> offrampThreads() {
        Set<Thread> s = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("offramp-") && t.isAlive()) {
                s.add(t);
            }
        }
        return s;
    }

    static boolean mapped(Path p) throws Exception {
        String real = p.toRealPath().toString();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(l -> l.endsWith(real));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void closeReleasesTheMappingAndEveryWorkerThread() throws Exception {
        Path model = privateCopy("stories260K.gguf");
        Set<Thread> before = offrampThreads();
        Generator g = Models.load(model, LoadOptions.defaults().withThreads(3));
        Set<Thread> started = offrampThreads();
        started.removeAll(before);
        assertThat(started).as("2 workers + the calling thread = 3").hasSize(2);
        assertThat(mapped(model)).as("mapped while open").isTrue();
        try (Session a = g.newSession(); Session b = g.newSession()) {
            assertThat(a.generate("Once upon a time", GenerateOptions.greedy(8), null).tokens()).hasSize(8);
            assertThat(b.generate("The dog", GenerateOptions.greedy(8), null).tokens()).isNotEmpty();
        }
        g.close();
        for (Thread t : started) {
            t.join(5000);
            assertThat(t.isAlive()).as("%s after close()", t.getName()).isFalse();
        }
        assertThat(mapped(model)).as("mapped after close()").isFalse();
        Files.delete(model); // nothing holds it any more
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void closingAnHfModelUnmapsItsSafetensors() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("hf-" + System.nanoTime()));
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(Fixtures.model("derived/stories260K-hf/" + f), dir.resolve(f));
        }
        Path weights = dir.resolve("model.safetensors");
        Set<Thread> before = offrampThreads();
        Generator g = Models.load(dir, LoadOptions.defaults().withThreads(2)
                .withTokenizer(Fixtures.model("stories260K.gguf")));
        try (Session s = g.newSession()) {
            assertThat(s.generate("Once upon a time", GenerateOptions.greedy(4), null).tokens()).hasSize(4);
        }
        assertThat(mapped(weights)).isTrue();
        g.close();
        assertThat(mapped(weights)).isFalse();
        Set<Thread> after = offrampThreads();
        after.removeAll(before);
        for (Thread t : after) {
            t.join(5000);
            assertThat(t.isAlive()).as("%s after close()", t.getName()).isFalse();
        }
    }

    @Test
    void closedObjectsRefuseWorkClearly() throws Exception {
        Path model = privateCopy("stories260K.gguf");
        Generator g = Models.load(model, LoadOptions.defaults().withThreads(2));
        Session s = g.newSession();
        s.close();
        s.close(); // idempotent
        assertThatThrownBy(() -> s.generate("Once", GenerateOptions.greedy(4), null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        Session open = g.newSession();
        g.close();
        g.close();
        assertThatThrownBy(g::newSession).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        // a session left open past its generator: a clean exception, not a read of unmapped memory
        assertThatThrownBy(() -> open.generate("Once", GenerateOptions.greedy(4), null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        open.close();

        GgufFile f = GgufFile.open(model);
        Tensor t = f.tensor("token_embd.weight");
        f.close();
        assertThatThrownBy(() -> t.data().get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        CpuBackend cpu = new CpuBackend(2);
        cpu.close();
        assertThatThrownBy(() -> cpu.allocate(1, 8)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    /**
     * Generations on other threads while the model is closed under them, many times: each ends with its
     * result or an IllegalStateException, and the JVM lives on.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void closingTheModelDuringGenerationIsAnExceptionNotACrash() throws Exception {
        Path model = privateCopy("trained/stories-ee12-Q8_0.gguf");
        Random rnd = new Random(3);
        int finished = 0;
        int refused = 0;
        for (int round = 0; round < 12; round++) {
            Generator g = Models.load(model, LoadOptions.defaults().withThreads(3));
            List<CompletableFuture<Generation>> runs = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Session s = g.newSession(SessionOptions.defaults().withContextLength(512));
                runs.add(CompletableFuture.supplyAsync(() -> s.generate("Once upon a time",
                        GenerateOptions.greedy(300).withIgnoreEos(true), null)));
            }
            Thread.sleep(rnd.nextInt(120));
            g.close(); // unmaps the weights and stops the workers while kernels run
            for (CompletableFuture<Generation> r : runs) {
                try {
                    r.get(30, TimeUnit.SECONDS);
                    finished++;
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof IllegalStateException)) {
                        fail("closing during generation gave " + e.getCause(), e.getCause());
                    }
                    refused++;
                }
            }
        }
        System.out.printf(Locale.ROOT, "close during generation: %d generations refused with IllegalStateException, "
                + "%d finished first, 0 crashes%n", refused, finished);
        assertThat(refused).isPositive();
    }

    /** The kernel level: a matmul streaming mapped weights while another thread closes the file. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void closingTheArenaUnderARunningKernelThrowsIllegalState() throws Exception {
        Path model = privateCopy("trained/stories-ee12-F32.gguf");
        int refused = 0;
        try (CpuBackend cpu = new CpuBackend(3)) {
            for (int round = 0; round < 20; round++) {
                GgufFile f = GgufFile.open(model);
                Tensor t = f.tensor("token_embd.weight");
                Weight w = cpu.prepare(t);
                Activations x = cpu.allocate(1, (int) t.cols());
                Activations y = cpu.allocate(1, (int) t.rows());
                CompletableFuture<Void> loop = CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 1_000_000; i++) {
                        cpu.matmul(w, x, 1, y);
                    }
                });
                Thread.sleep(5 + round);
                f.close();
                try {
                    loop.get(30, TimeUnit.SECONDS);
                    fail("a million matmuls finished before close: the test proves nothing");
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);
                    refused++;
                }
            }
        }
        assertThat(refused).isEqualTo(20);
    }
}
