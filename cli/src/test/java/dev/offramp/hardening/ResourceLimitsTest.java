package dev.offramp.hardening;

import dev.offramp.core.Models;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.InsufficientMemoryException;
import dev.offramp.core.generate.ContextFullException;
import dev.offramp.core.generate.ContextOverflow;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.generate.Generation;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.Session;
import dev.offramp.core.generate.SessionOptions;
import dev.offramp.core.generate.StopReason;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.kernels.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Limits a service relies on: a context or batch that cannot fit is refused before anything is
 * allocated, naming the bytes needed and available; a prompt longer than the context follows the
 * session's policy (error, or slide and keep BOS + the newest half); maxTokens, stop strings and a
 * deadline end generation where they should.
 */
class ResourceLimitsTest {

    private static ModelSource source;
    private static Budgeted backend;
    private static Generator gen;

    /** The CPU backend behind a proxy that reports a settable budget and counts allocations. */
    static final class Budgeted {
        final CpuBackend cpu = new CpuBackend(2);
        volatile long budget = -1; // -1: the real figure
        final AtomicInteger allocations = new AtomicInteger();
        final Backend proxy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (p, m, args) -> {
                    switch (m.getName()) {
                        case "availableMemory" -> {
                            return budget >= 0 ? budget : cpu.availableMemory();
                        }
                        case "allocate", "allocateKvCache" -> allocations.incrementAndGet();
                        default -> { }
                    }
                    try {
                        return m.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @BeforeAll
    static void load() throws Exception {
        source = Models.open(Fixtures.model("trained/stories-ee12-Q8_0.gguf"), null);
        backend = new Budgeted();
        gen = Generator.of(source, backend.proxy, false);
    }

    @AfterAll
    static void close() {
        if (gen != null) {
            gen.close();
            backend.cpu.close();
            source.close();
        }
    }

    @Test
    void aContextBeyondTheHeapIsRefusedBeforeAnyAllocation() {
        backend.budget = -1;
        int before = backend.allocations.get();
        long heapBefore = usedHeap();
        // 12 layers x 256 wide x 2 (K and V) x 4 bytes x 40M positions = 983 GB
        assertThatThrownBy(() -> gen.newSession(SessionOptions.defaults().withContextLength(40_000_000)))
                .isInstanceOf(InsufficientMemoryException.class)
                .hasMessageContaining("40000000 positions")
                .hasMessageMatching("(?s).*needs \\d+ bytes .* only \\d+ bytes .*available.*")
                .satisfies(e -> {
                    InsufficientMemoryException ie = (InsufficientMemoryException) e;
                    assertThat(ie.neededBytes()).isGreaterThan(ie.availableBytes());
                    System.out.printf(Locale.ROOT, "refused: needed %d bytes, available %d bytes%n",
                            ie.neededBytes(), ie.availableBytes());
                });
        assertThat(backend.allocations.get()).as("allocations made before refusing").isEqualTo(before);
        assertThat(usedHeap() - heapBefore).as("heap growth of a refusal").isLessThan(64L << 20);
    }

    @Test
    void aBudgetDecidesExactlyWhatFits() {
        var c = gen.config();
        long need512 = ForwardState.bytesNeeded(c, 512, DType.F32, 128);
        backend.budget = need512;
        try {
            try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(512))) {
                assertThat(s.generate("Once upon a time", GenerateOptions.greedy(4), null).tokens()).hasSize(4);
            }
            int before = backend.allocations.get();
            // one more position, or a larger batch, no longer fits
            assertThatThrownBy(() -> gen.newSession(SessionOptions.defaults().withContextLength(513)))
                    .isInstanceOf(InsufficientMemoryException.class)
                    .hasMessageContaining("needs " + ForwardState.bytesNeeded(c, 513, DType.F32, 128) + " bytes")
                    .hasMessageContaining(need512 + " bytes");
            assertThatThrownBy(() -> gen.newSession(SessionOptions.defaults().withContextLength(512).withPrefillChunk(256)))
                    .isInstanceOf(InsufficientMemoryException.class).hasMessageContaining("batches of 256 tokens");
            assertThat(backend.allocations.get()).isEqualTo(before);
            // an F16 cache halves the KV part, so twice the context almost fits in the same budget
            try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(1000).withKvType(DType.F16))) {
                assertThat(s.contextLength()).isEqualTo(1000);
            }
        } finally {
            backend.budget = -1;
        }
    }

    @Test
    void aPromptLongerThanTheContextFollowsThePolicy() {
        String longPrompt = "Once upon a time there was a little girl named Lily. ".repeat(20);
        int promptTokens = gen.tokenizer().encode(longPrompt, true, false).length;
        assertThat(promptTokens).isGreaterThan(64);
        try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(64))) {
            assertThatThrownBy(() -> s.generate(longPrompt, GenerateOptions.greedy(4), null))
                    .isInstanceOf(ContextFullException.class)
                    .hasMessageContaining(promptTokens + " tokens").hasMessageContaining("context of 64");
        }
        try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(64)
                .withOverflow(ContextOverflow.SLIDE))) {
            Generation g = s.generate(longPrompt, GenerateOptions.greedy(4).withIgnoreEos(true), null);
            assertThat(g.tokens()).hasSize(4);
            int[] kept = s.tokens();
            // visible in the session: BOS, then only the newest part of the prompt, then the 4 new tokens
            assertThat(kept.length).isLessThanOrEqualTo(64);
            assertThat(kept[0]).isEqualTo(gen.tokenizer().bos());
            int[] all = gen.tokenizer().encode(longPrompt, true, false);
            int tail = kept.length - 1 - 4;
            assertThat(java.util.Arrays.copyOfRange(kept, 1, 1 + tail))
                    .containsExactly(java.util.Arrays.copyOfRange(all, all.length - tail, all.length));
        }
    }

    @Test
    void maxTokensStopStringsAndDeadlines() {
        try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(256))) {
            Generation zero = s.generate("Once upon a time", GenerateOptions.greedy(0), null);
            assertThat(zero.tokens()).isEmpty();
            assertThat(zero.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
        }
        Generation full;
        try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(256))) {
            full = s.generate("Once upon a time", GenerateOptions.greedy(40).withIgnoreEos(true), null);
            assertThat(full.tokens()).hasSize(40);
            assertThat(full.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
        }
        String text = full.text();
        String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
        int at = text.indexOf(stop);
        try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(256))) {
            Generation g = s.generate("Once upon a time", GenerateOptions.greedy(40).withIgnoreEos(true)
                    .withStopStrings(List.of(stop)), null);
            assertThat(g.stopReason()).isEqualTo(StopReason.STOP_STRING);
            assertThat(g.text()).isEqualTo(text.substring(0, at));
        }
        // a deadline through the cancel hook: polled before every token
        try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(4096))) {
            long t0 = System.nanoTime();
            long deadline = t0 + 300_000_000L;
            Generation g = s.generate("Once upon a time", GenerateOptions.greedy(100_000).withIgnoreEos(true)
                    .withCancel(() -> System.nanoTime() > deadline), null);
            double ms = (System.nanoTime() - t0) / 1e6;
            assertThat(g.stopReason()).isEqualTo(StopReason.CANCELLED);
            System.out.printf(Locale.ROOT, "deadline 300 ms: stopped after %.0f ms and %d tokens%n", ms, g.tokens().length);
            assertThat(ms).isLessThan(2000);
        }
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
