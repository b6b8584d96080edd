package dev.offramp.core;

import java.nio.file.Path;

/**
 * How {@link Models#load(Path, LoadOptions)} opens a model.
 *
 * @param tokenizer a file to take the tokenizer from instead of the model's own (tokenizer.json,
 *                  tokenizer.model, or a GGUF); null to use what the model has
 * @param backend   backend name ({@code cpu}, {@code cuda}); null picks the preferred one that starts
 * @param threads   worker threads (0 = one per core)
 */
public record LoadOptions(Path tokenizer, String backend, int threads) {

    public LoadOptions {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
    }

    public static LoadOptions defaults() {
        return new LoadOptions(null, null, 0);
    }

    public LoadOptions withTokenizer(Path p) {
        return new LoadOptions(p, backend, threads);
    }

    public LoadOptions withBackend(String name) {
        return new LoadOptions(tokenizer, name, threads);
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(tokenizer, backend, n);
    }
}
