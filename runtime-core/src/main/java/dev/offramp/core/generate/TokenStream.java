package dev.offramp.core.generate;

import dev.offramp.core.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A generation as an {@link Iterator}: each {@code next()} samples one token (evaluating the
 * previous one first), so a caller that stops iterating stops the work. Text is released as it
 * becomes final: incomplete UTF-8 and possible stop-string prefixes are held back.
 *
 * <pre>{@code
 * TokenStream s = session.stream("Once upon a time", GenerateOptions.greedy(20));
 * while (s.hasNext()) System.out.print(s.next().text());
 * Generation g = s.result();
 * }</pre>
 */
public final class TokenStream implements Iterator<GeneratedToken> {

    private final Session session;
    private final GenerateOptions options;
    private final Sampler sampler;
    private final Tokenizer tokenizer;
    private final Tokenizer.StreamingDecoder decoder;
    private final StopStrings stops;
    private final StringBuilder text = new StringBuilder();
    private int[] generated = new int[16];
    private int count;
    private final int promptTokens;
    private final long promptNanos;
    private long generateNanos;
    private GeneratedToken lookahead;
    private StopReason stopReason;

    TokenStream(Session session, GenerateOptions options) {
        this.session = session;
        this.options = options;
        Generator g = session.generator();
        this.sampler = new Sampler(options.sampler(), g.config().vocabSize());
        this.tokenizer = g.findTokenizer().orElse(null);
        if (tokenizer == null && !options.stopStrings().isEmpty()) {
            throw new IllegalStateException(g.noTokenizerMessage() + " (stop strings need one)");
        }
        this.stops = new StopStrings(options.stopStrings());
        if (tokenizer != null) {
            decoder = tokenizer.streamingDecoder();
            // Prime with the context so that pieces decode as continuations (SentencePiece drops the
            // leading space only at the start of a text).
            int[] ctx = session.tokens();
            for (int id : ctx) {
                decoder.next(id);
            }
        } else {
            decoder = null;
        }
        this.promptTokens = session.length() - session.evaluated();
        long t0 = System.nanoTime();
        if (options.maxTokens() > 0) {
            session.evaluate();
        }
        this.promptNanos = System.nanoTime() - t0;
    }

    @Override
    public boolean hasNext() {
        if (lookahead == null && stopReason == null) {
            lookahead = step();
        }
        return lookahead != null;
    }

    @Override
    public GeneratedToken next() {
        if (!hasNext()) {
            throw new NoSuchElementException("generation has ended: " + stopReason);
        }
        GeneratedToken t = lookahead;
        lookahead = null;
        return t;
    }

    /** Why generation ended, or null while it runs. */
    public StopReason stopReason() {
        return stopReason;
    }

    /** The finished generation; iterates to the end first if needed. */
    public Generation result() {
        while (hasNext()) {
            next();
        }
        return new Generation(text.toString(), Arrays.copyOf(generated, count), promptTokens, stopReason,
                promptNanos, generateNanos);
    }

    private GeneratedToken step() {
        long t0 = System.nanoTime();
        try {
            return stepTimed();
        } finally {
            generateNanos += System.nanoTime() - t0;
        }
    }

    private GeneratedToken stepTimed() {
        if (count >= options.maxTokens()) {
            stopReason = StopReason.MAX_TOKENS;
            return null;
        }
        if (session.isCancelled() || options.cancel().getAsBoolean()) {
            stopReason = StopReason.CANCELLED;
            String rest = flushAll();
            return rest.isEmpty() ? null : emit(GeneratedToken.NO_TOKEN, rest);
        }
        float[] logits = session.evaluate();
        int id = sampler.sample(logits, 0, session.history(), session.length());
        session.append(id);
        if (count == generated.length) {
            generated = Arrays.copyOf(generated, count * 2);
        }
        generated[count++] = id;
        if (!options.ignoreEos() && tokenizer != null && tokenizer.isEndOfGeneration(id)) {
            stopReason = StopReason.END_OF_GENERATION;
            return emit(id, flushAll());
        }
        String piece = decoder == null ? "" : stops.push(decoder.next(id));
        if (stops.matched()) {
            stopReason = StopReason.STOP_STRING;
            return emit(id, piece);
        }
        if (count >= options.maxTokens()) {
            stopReason = StopReason.MAX_TOKENS;
            piece += flushAll();
        }
        return emit(id, piece);
    }

    private String flushAll() {
        if (decoder == null) {
            return "";
        }
        String tail = stops.push(decoder.flush());
        return stops.matched() ? tail : tail + stops.flush();
    }

    private GeneratedToken emit(int id, String piece) {
        text.append(piece);
        return new GeneratedToken(id, piece);
    }
}
