package dev.offramp.core.generate;

import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.ScalarTestBackend;
import dev.offramp.core.testing.SyntheticModels;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SessionTest {

    static Generator generator() {
        ModelConfig c = SyntheticModels.config("llama", 2, true);
        return Generator.of(LlamaModel.bind(c, SyntheticModels.weights(c, 11), new ScalarTestBackend()), new CharTokenizer());
    }

    @Test
    void streamingAndIteratorAgreeAndStopAtMaxTokens() {
        Generator g = generator();
        StringBuilder streamed = new StringBuilder();
        Generation a;
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(64))) {
            a = s.generate("hello", GenerateOptions.greedy(12).withIgnoreEos(true), t -> streamed.append(t.text()));
        }
        assertThat(a.tokens()).hasSize(12);
        assertThat(a.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
        assertThat(streamed.toString()).isEqualTo(a.text());
        assertThat(a.text()).isEqualTo(new CharTokenizer().decode(a.tokens(), false));
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(64).withPrefillChunk(2))) {
            TokenStream it = s.stream("hello", GenerateOptions.greedy(12).withIgnoreEos(true));
            List<Integer> ids = new ArrayList<>();
            while (it.hasNext()) {
                ids.add(it.next().id());
            }
            assertThat(ids.stream().mapToInt(Integer::intValue).toArray()).isEqualTo(a.tokens());
            assertThat(s.length()).isEqualTo(1 + 5 + 12);
        }
    }

    @Test
    void rollbackAndSyncReuseTheCacheExactly() {
        Generator g = generator();
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(64))) {
            Generation first = s.generate("abc", GenerateOptions.greedy(8).withIgnoreEos(true), null);
            int[] all = s.tokens();
            s.rollback(4); // BOS + "abc"
            Generation again = s.generate(new int[0], GenerateOptions.greedy(8).withIgnoreEos(true), null);
            assertThat(again.tokens()).isEqualTo(first.tokens());
            s.sync(Arrays.copyOf(all, 6));
            assertThat(s.evaluated()).isLessThanOrEqualTo(6);
            assertThat(s.tokens()).isEqualTo(Arrays.copyOf(all, 6));
            float[] l = s.evaluate().clone();
            try (Session fresh = g.newSession(SessionOptions.defaults().withContextLength(64))) {
                fresh.append(Arrays.copyOf(all, 6));
                assertThat(fresh.evaluate()).isEqualTo(l);
            }
        }
    }

    @Test
    void contextFullIsAnErrorOrSlides() {
        Generator g = generator();
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(8))) {
            assertThatThrownBy(() -> s.generate("abcdefghij", GenerateOptions.greedy(3), null))
                    .isInstanceOf(ContextFullException.class).hasMessageContaining("context");
        }
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(8).withOverflow(ContextOverflow.SLIDE))) {
            Generation gen = s.generate("abcdef", GenerateOptions.greedy(20).withIgnoreEos(true), null);
            assertThat(gen.tokens()).hasSize(20);
            assertThat(s.length()).isLessThanOrEqualTo(9);
            assertThat(s.tokens()[0]).isEqualTo(1);
        }
    }

    @Test
    void stopStringsCancellationAndF16Cache() {
        Generator g = generator();
        Generation ref;
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(64))) {
            ref = s.generate("hi", GenerateOptions.greedy(20).withIgnoreEos(true), null);
        }
        String text = ref.text();
        assertThat(text).hasSizeGreaterThan(6);
        String stop = text.substring(4, 6);
        int cut = text.indexOf(stop);
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(64))) {
            StringBuilder sb = new StringBuilder();
            Generation gen = s.generate("hi", GenerateOptions.greedy(20).withIgnoreEos(true).withStopStrings(List.of(stop)),
                    t -> sb.append(t.text()));
            assertThat(gen.stopReason()).isEqualTo(StopReason.STOP_STRING);
            assertThat(gen.text()).isEqualTo(text.substring(0, cut)).isEqualTo(sb.toString());
        }
        AtomicInteger calls = new AtomicInteger();
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(64))) {
            Generation gen = s.generate("hi", GenerateOptions.greedy(20).withIgnoreEos(true)
                    .withCancel(() -> calls.incrementAndGet() > 3), null);
            assertThat(gen.stopReason()).isEqualTo(StopReason.CANCELLED);
            assertThat(gen.tokens()).hasSize(3);
        }
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(64).withKvType(DType.F16))) {
            Generation gen = s.generate("hi", GenerateOptions.greedy(20).withIgnoreEos(true), null);
            assertThat(gen.tokens()).hasSize(20);
        }
    }

    @Test
    void independentSessionsOnOneGeneratorFromManyThreads() throws Exception {
        Generator g = generator();
        Generation ref;
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(64))) {
            ref = s.generate("hello", GenerateOptions.greedy(16).withIgnoreEos(true), null);
        }
        List<Thread> threads = new ArrayList<>();
        List<int[]> results = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 4; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try (Session s = g.newSession(SessionOptions.defaults().withContextLength(64))) {
                    results.add(s.generate("hello", GenerateOptions.greedy(16).withIgnoreEos(true), null).tokens());
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(results).hasSize(4).allSatisfy(r -> assertThat(r).isEqualTo(ref.tokens()));
    }

    @Test
    void longPromptWithLargeVocabularyAllocatesPerChunkNotPerPrompt() {
        ModelConfig c = new ModelConfig("llama", 128_256, 16, 1, 4, 2, 4, 24, 8192, 1e-5f, 5e5f, 4,
                dev.offramp.core.model.RopeStyle.NORMAL, dev.offramp.core.model.RopeScaling.NONE, true, false, false, false);
        ScalarTestBackend be = new ScalarTestBackend();
        Generator g = Generator.of(LlamaModel.bind(c, SyntheticModels.weights(c, 2), be), null);
        int[] prompt = new int[1500];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = (i * 7919) % c.vocabSize();
        }
        try (Session s = g.newSession(SessionOptions.defaults().withContextLength(4096).withPrefillChunk(128))) {
            Generation r = s.generate(prompt, GenerateOptions.greedy(2), null);
            assertThat(r.tokens()).hasSize(2);
        }
        // KV 2 * 4096 * 8 + activations 128 x (16..24) + one logits row of 128k; logits for every prompt
        // row would be 1500 * 128256 = 192M floats.
        assertThat(be.allocatedFloats()).isLessThan(1_000_000L);
    }
}
