package dev.offramp.bench;

import dev.offramp.core.LoadOptions;
import dev.offramp.core.Models;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.generate.Session;
import dev.offramp.core.generate.SessionOptions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * Offramp measured the way {@code llama-bench} measures llama.cpp: pp = one batch of random prompt
 * tokens into an empty KV cache, logits of the last token only; tg = that many single-token steps
 * from an empty cache, each producing full logits. No sampling or detokenization is timed on either
 * side. Before the first timed repetition one untimed pp + tg pass lets the JIT compile the kernels.
 */
final class OfframpSystem implements BenchSystem {

    private final Generator generator;
    private final Session session;
    private final int[] prompt;
    private final int[] gen;
    private final int threads;
    private boolean warm;

    OfframpSystem(Path model, String backend, int threads, int promptTokens, int genTokens, long seed)
            throws IOException {
        this.threads = threads;
        this.generator = Models.load(model, new LoadOptions(null, backend, threads));
        try {
            int vocab = generator.config().vocabSize();
            this.session = generator.newSession(SessionOptions.defaults()
                    .withContextLength(promptTokens + genTokens + 8));
            Random r = new Random(seed);
            this.prompt = r.ints(promptTokens, 0, vocab).toArray();
            this.gen = r.ints(genTokens, 0, vocab).toArray();
        } catch (RuntimeException | Error e) {
            generator.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "offramp";
    }

    @Override
    public String build() {
        String v = OfframpSystem.class.getPackage().getImplementationVersion();
        return "offramp " + (v != null ? v : "dev") + " (" + generator.model().backend().describe()
                + ", JDK " + Runtime.version().feature() + ")";
    }

    @Override
    public Sample measure() {
        if (!warm) {
            prefill();
            decode();
            warm = true;
        }
        double pp = prefill();
        double tg = decode();
        return new Sample(pp, tg);
    }

    private double prefill() {
        session.rollback(0);
        session.append(prompt);
        long t0 = System.nanoTime();
        session.evaluate();
        return prompt.length * 1e9 / (System.nanoTime() - t0);
    }

    private double decode() {
        session.rollback(0);
        long t0 = System.nanoTime();
        for (int id : gen) {
            session.append(id);
            session.evaluate();
        }
        return gen.length * 1e9 / (System.nanoTime() - t0);
    }

    @Override
    public void close() {
        try {
            session.close();
        } finally {
            generator.close();
        }
    }
}
