package dev.offramp.core.generate;

import dev.offramp.core.backend.Backend;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.tokenizer.Tokenizer;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A model loaded once and bound to a backend, with its tokenizer: thread-safe and shareable.
 * Each conversation or request opens its own {@link Session}; sessions are independent and may run
 * concurrently. Get one from {@code Models.load(path)}.
 *
 * <pre>{@code
 * try (Generator g = Models.load(Path.of("model.gguf"));
 *      Session s = g.newSession()) {
 *     s.generate("Hello", GenerateOptions.greedy(20), t -> System.out.print(t.text()));
 * }
 * }</pre>
 */
public final class Generator implements AutoCloseable {

    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final ModelSource source;
    private final boolean ownsBackend;
    private volatile boolean closed;

    /**
     * Binds {@code source}'s weights to {@code backend}. When {@code owns} is true, closing the
     * generator closes the source (unmapping its files) and the backend.
     */
    public static Generator of(ModelSource source, Backend backend, boolean owns) {
        Objects.requireNonNull(source, "source");
        LlamaModel m = LlamaModel.bind(source.config(), source.tensors(), backend);
        return new Generator(m, source.tokenizer().orElse(null), owns ? source : null, owns);
    }

    /** A generator over an already bound model (tests, other front ends); nothing is owned. */
    public static Generator of(LlamaModel model, Tokenizer tokenizer) {
        return new Generator(model, tokenizer, null, false);
    }

    private Generator(LlamaModel model, Tokenizer tokenizer, ModelSource source, boolean ownsBackend) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = tokenizer;
        this.source = source;
        this.ownsBackend = ownsBackend;
    }

    public LlamaModel model() {
        checkOpen();
        return model;
    }

    public ModelConfig config() {
        return model.config();
    }

    /** Format metadata of the source (chat template and the like); empty when not known. */
    public Map<String, Object> metadata() {
        return source == null ? Map.of() : source.metadata();
    }

    /** The tokenizer, if the model came with one. */
    public Optional<Tokenizer> findTokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /**
     * The tokenizer.
     *
     * @throws IllegalStateException when the model has none (say which file to take it from)
     */
    public Tokenizer tokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException(noTokenizerMessage());
        }
        return tokenizer;
    }

    String noTokenizerMessage() {
        String where = source == null ? "this model" : source.path().toString();
        return "no tokenizer found for " + where + ": put tokenizer.json or tokenizer.model beside it, "
                + "or pass one with --tokenizer FILE (a GGUF with the same vocabulary works too)";
    }

    /** A new session with default options (the model's context, capped at 4096). */
    public Session newSession() {
        return newSession(SessionOptions.defaults());
    }

    public Session newSession(SessionOptions options) {
        checkOpen();
        return new Session(this, options);
    }

    /** One-shot convenience: a fresh session, generate, close it. */
    public Generation generate(String prompt, GenerateOptions options, Consumer<GeneratedToken> listener) {
        try (Session s = newSession()) {
            return s.generate(prompt, options, listener);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("generator is closed");
        }
    }

    /** Closes the source and backend if this generator owns them; sessions must be closed first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ownsBackend) {
            try {
                model.backend().close();
            } finally {
                if (source != null) {
                    source.close();
                }
            }
        }
    }
}
