package dev.offramp.core.generate;

import dev.offramp.core.model.ExitPlan;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * One conversation or document: its token history and the KV cache that holds the evaluated part
 * of it. Many sessions can run at once on one {@link Generator}; a single session is used by one
 * thread at a time (except {@link #cancel()}, which any thread may call).
 *
 * <p>The history is {@link #tokens()}; the first {@link #evaluated()} of them have K/V in the cache.
 * Rolling back (an edited chat, rejected drafts) sets the length; nothing is copied.
 *
 * <pre>{@code
 * try (Session s = generator.newSession()) {
 *     Generation g = s.generate("Once upon a time", GenerateOptions.greedy(50), t -> System.out.print(t.text()));
 * }
 * }</pre>
 */
public final class Session implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Session.class.getName());

    private final Generator generator;
    private final LlamaModel model;
    private final ForwardState state;
    private final ContextOverflow overflow;
    private final int capacity;
    private final float[] logits;
    private final int[] one = new int[1];
    private final int[] onePos = new int[1];
    private final int[] lastRow = new int[1];
    private int[] tokens = new int[64];
    private int length;
    private int evaluated;
    private boolean logitsValid;
    private volatile boolean cancelled;
    private boolean closed;

    Session(Generator generator, SessionOptions options) {
        this.generator = generator;
        this.model = generator.model();
        int ctx = options.contextLength();
        if (ctx == 0) {
            ctx = Math.min(model.config().contextLength(), SessionOptions.DEFAULT_MAX_CONTEXT);
        }
        this.capacity = ctx;
        this.overflow = options.overflow();
        this.state = model.newState(ctx, options.kvType(), Math.min(options.prefillChunk(), ctx));
        this.logits = new float[model.config().vocabSize()];
    }

    /** Positions the KV cache holds. */
    public int contextLength() {
        return capacity;
    }

    /** Tokens in the history (evaluated or pending). */
    public int length() {
        return length;
    }

    /** Tokens whose K/V are in the cache. */
    public int evaluated() {
        return evaluated;
    }

    /** A copy of the history. */
    public int[] tokens() {
        return Arrays.copyOf(tokens, length);
    }

    /** The model this session runs. */
    public Generator generator() {
        return generator;
    }

    /** Forgets everything from position {@code newLength} on (the cache is reused as it is). */
    public void rollback(int newLength) {
        checkOpen();
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot roll back to " + newLength + ": the session has " + length + " tokens");
        }
        if (newLength < length) {
            length = newLength;
            logitsValid = false;
        }
        evaluated = Math.min(evaluated, newLength);
    }

    /** Appends tokens to the history; they are evaluated by the next generation or {@link #evaluate()}. */
    public void append(int... ids) {
        checkOpen();
        checkIds(ids);
        if (ids.length == 0) {
            return;
        }
        if (length + ids.length > tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, length + ids.length));
        }
        System.arraycopy(ids, 0, tokens, length, ids.length);
        length += ids.length;
        logitsValid = false;
    }

    /**
     * Makes the history equal {@code ids}, keeping the longest common prefix already evaluated (a chat
     * re-rendered with its template shares everything up to the newest turn).
     */
    public void sync(int[] ids) {
        checkOpen();
        checkIds(ids);
        int common = 0;
        while (common < length && common < ids.length && tokens[common] == ids[common]) {
            common++;
        }
        rollback(common);
        append(Arrays.copyOfRange(ids, common, ids.length));
    }

    private void checkIds(int[] ids) {
        int vocab = model.config().vocabSize();
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    /**
     * Evaluates every pending token and returns the logits of the last one (a view valid until the
     * next call on this session). With nothing pending, the last token is evaluated again.
     */
    public float[] evaluate() {
        checkOpen();
        if (length == 0) {
            throw new IllegalStateException("the session is empty: append a token (e.g. BOS) first");
        }
        if (logitsValid && evaluated == length) {
            return logits;
        }
        if (evaluated == length) {
            evaluated--;
        }
        if (length > capacity) {
            makeRoom();
        }
        int n = length - evaluated;
        int[] batch;
        int[] pos;
        if (n == 1) {
            one[0] = tokens[evaluated];
            onePos[0] = evaluated;
            batch = one;
            pos = onePos;
        } else {
            batch = Arrays.copyOfRange(tokens, evaluated, length);
            pos = new int[n];
            for (int i = 0; i < n; i++) {
                pos[i] = evaluated + i;
            }
        }
        lastRow[0] = n - 1;
        model.forward(state, batch, pos, n, ExitPlan.full(), lastRow, logits);
        evaluated = length;
        logitsValid = true;
        return logits;
    }

    private void makeRoom() {
        if (overflow == ContextOverflow.ERROR) {
            throw new ContextFullException("context full: " + length + " tokens do not fit the session's context of "
                    + capacity + " (ask for a longer context, or use ContextOverflow.SLIDE)");
        }
        Tokenizer tok = generator.findTokenizer().orElse(null);
        boolean keepBos = tok != null && tok.bos() >= 0 && tokens[0] == tok.bos();
        int keepTail = Math.max(1, capacity / 2 - (keepBos ? 1 : 0));
        int[] kept = new int[(keepBos ? 1 : 0) + keepTail];
        if (keepBos) {
            kept[0] = tokens[0];
        }
        System.arraycopy(tokens, length - keepTail, kept, keepBos ? 1 : 0, keepTail);
        LOG.log(System.Logger.Level.DEBUG, "context full at {0} tokens: sliding to the last {1}", length, kept.length);
        System.arraycopy(kept, 0, tokens, 0, kept.length);
        length = kept.length;
        evaluated = 0;
    }

    /**
     * Starts generating after {@code prompt} (appended to the history; BOS is added when the session
     * is empty and the tokenizer asks for it). The prompt is evaluated (prefilled) at once; after that
     * the stream does the work of one token per {@code next()}, so a caller that stops iterating stops it.
     */
    public TokenStream stream(String prompt, GenerateOptions options) {
        Tokenizer tok = generator.tokenizer();
        int[] ids = tok.encode(prompt, length == 0, true);
        return stream(ids, options);
    }

    /** Starts generating after the token ids {@code prompt} (appended as they are). */
    public TokenStream stream(int[] prompt, GenerateOptions options) {
        checkOpen();
        cancelled = false;
        append(prompt);
        return new TokenStream(this, options);
    }

    /** Generates after {@code prompt}, handing each step to {@code listener} (may be null) as it comes. */
    public Generation generate(String prompt, GenerateOptions options, Consumer<GeneratedToken> listener) {
        return drain(stream(prompt, options), listener);
    }

    /** Generates after the token ids {@code prompt}. */
    public Generation generate(int[] prompt, GenerateOptions options, Consumer<GeneratedToken> listener) {
        return drain(stream(prompt, options), listener);
    }

    private static Generation drain(TokenStream s, Consumer<GeneratedToken> listener) {
        while (s.hasNext()) {
            GeneratedToken t = s.next();
            if (listener != null) {
                listener.accept(t);
            }
        }
        return s.result();
    }

    /** Asks a running generation to stop before its next token; safe from any thread. */
    public void cancel() {
        cancelled = true;
    }

    boolean isCancelled() {
        return cancelled;
    }

    int[] history() {
        return tokens;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("session is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            state.close();
        }
    }
}
