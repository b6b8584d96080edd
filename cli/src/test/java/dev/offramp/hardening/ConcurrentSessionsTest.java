package dev.offramp.hardening;

import dev.offramp.core.LoadOptions;
import dev.offramp.core.Models;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.generate.Generation;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.SamplerSettings;
import dev.offramp.core.generate.Session;
import dev.offramp.core.generate.SessionOptions;
import dev.offramp.core.generate.StopReason;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One loaded model (stories-ee12 Q8_0), eight sessions generating at once on one backend worker
 * pool: every output is token for token what the same session produces alone, greedy and seeded
 * sampling alike; cancelling mid-generation from another thread never deadlocks. The stress run
 * repeats random mixes for {@code -Dofframp.stress.seconds} (3 s by default, 60 for the profile run).
 */
class ConcurrentSessionsTest {

    static final int SESSIONS = 8;
    static final int TOKENS = 24;
    static final String[] PROMPTS = {"Once upon a time", "The little dog", "Lily and Tom went to the park",
            "One day, a bird", "Sam was sad because", "There was a big red ball", "Mom said", "The sun was hot and"};

    private static Generator gen;

    @BeforeAll
    static void load() throws Exception {
        // 4 workers on a 2-core machine: oversubscribed on purpose, so interleavings vary
        gen = Models.load(Fixtures.model("trained/stories-ee12-Q8_0.gguf"), LoadOptions.defaults().withThreads(4));
    }

    @AfterAll
    static void close() {
        if (gen != null) {
            gen.close();
        }
    }

    record Job(String prompt, GenerateOptions options) {
        int[] runAlone() {
            try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(256))) {
                return s.generate(prompt, options, null).tokens();
            }
        }
    }

    static List<Job> jobs(long seed) {
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            GenerateOptions o = i % 2 == 0 ? GenerateOptions.greedy(TOKENS)
                    : GenerateOptions.sampled(TOKENS, SamplerSettings.defaults().withTemperature(0.9f).withSeed(seed + i));
            jobs.add(new Job(PROMPTS[i], o.withIgnoreEos(true)));
        }
        return jobs;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void eightSessionsAtOnceEqualEachAlone() throws Exception {
        List<Job> jobs = jobs(42);
        int[][] alone = new int[SESSIONS][];
        for (int i = 0; i < SESSIONS; i++) {
            alone[i] = jobs.get(i).runAlone();
            assertThat(alone[i]).hasSize(TOKENS);
        }
        // different seeds do differ: otherwise "equal to alone" would prove little for sampling
        // seeded sampling does sample: otherwise half of the sessions would only repeat the greedy check
        assertThat(alone[1]).isNotEqualTo(new Job(PROMPTS[1], GenerateOptions.greedy(TOKENS).withIgnoreEos(true)).runAlone());
        ExecutorService pool = Executors.newFixedThreadPool(SESSIONS);
        try {
            for (int round = 0; round < 2; round++) {
                List<Future<int[]>> fs = new ArrayList<>();
                for (Job j : jobs) {
                    fs.add(pool.submit(j::runAlone));
                }
                for (int i = 0; i < SESSIONS; i++) {
                    assertThat(fs.get(i).get(60, TimeUnit.SECONDS)).as("session %d, round %d", i, round)
                            .containsExactly(alone[i]);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void cancellingMidGenerationNeverDeadlocks() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(SESSIONS);
        Random rnd = new Random(7);
        try {
            for (int round = 0; round < 3; round++) {
                List<Session> sessions = new ArrayList<>();
                List<Future<Generation>> fs = new ArrayList<>();
                // Session.cancel() only reaches a generation that has started (stream() clears the
                // flag), so wait until every session has produced a token, then cancel mid-stream
                java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(SESSIONS);
                for (int i = 0; i < SESSIONS; i++) {
                    Session s = gen.newSession(SessionOptions.defaults().withContextLength(512));
                    sessions.add(s);
                    String prompt = PROMPTS[i];
                    boolean[] first = {true};
                    fs.add(pool.submit(() -> s.generate(prompt, GenerateOptions.greedy(400).withIgnoreEos(true), t -> {
                        if (first[0]) {
                            first[0] = false;
                            started.countDown();
                        }
                    })));
                }
                assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
                Thread.sleep(rnd.nextInt(100));
                for (Session s : sessions) {
                    s.cancel();
                }
                for (int i = 0; i < SESSIONS; i++) {
                    Generation g = fs.get(i).get(30, TimeUnit.SECONDS);
                    assertThat(g.stopReason()).isEqualTo(StopReason.CANCELLED);
                    assertThat(g.tokens().length).isBetween(1, 399);
                    sessions.get(i).close();
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Random mixes of generate / cancel / compare for a while; the CI run is short, the profile run 60 s. */
    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void stress() throws Exception {
        long seconds = Long.getLong("offramp.stress.seconds", 3);
        List<Job> jobs = jobs(99);
        int[][] alone = new int[SESSIONS][];
        for (int i = 0; i < SESSIONS; i++) {
            alone[i] = jobs.get(i).runAlone();
        }
        ExecutorService pool = Executors.newFixedThreadPool(SESSIONS);
        AtomicInteger compared = new AtomicInteger();
        AtomicInteger cancelled = new AtomicInteger();
        AtomicLong tokens = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long t0 = System.nanoTime();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < SESSIONS; w++) {
                int worker = w;
                fs.add(pool.submit(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    while (System.nanoTime() < end) {
                        int i = r.nextInt(SESSIONS);
                        if (r.nextInt(4) == 0) {
                            try (Session s = gen.newSession(SessionOptions.defaults().withContextLength(256))) {
                                long stopAt = System.nanoTime() + r.nextLong(50_000_000);
                                Generation g = s.generate(PROMPTS[i], GenerateOptions.greedy(200).withIgnoreEos(true)
                                        .withCancel(() -> System.nanoTime() > stopAt), null);
                                tokens.addAndGet(g.tokens().length);
                                if (g.stopReason() == StopReason.CANCELLED) {
                                    cancelled.incrementAndGet();
                                }
                            }
                        } else {
                            int[] got = jobs.get(i).runAlone();
                            tokens.addAndGet(got.length);
                            if (!Arrays.equals(got, alone[i])) {
                                throw new AssertionError("worker " + worker + ": session " + i + " under load gave "
                                        + Arrays.toString(got) + ", alone " + Arrays.toString(alone[i]));
                            }
                            compared.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(seconds + 120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "stress: %.1f s, %d sessions at once on %d backend threads: %d generations equal "
                        + "to their solo run, %d cancelled mid-generation, %d tokens (%.0f tokens/s in all)%n",
                secs, SESSIONS, gen.model().backend().threads(), compared.get(), cancelled.get(), tokens.get(),
                tokens.get() / secs);
        assertThat(compared.get()).isPositive();
    }
}
