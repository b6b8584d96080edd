package dev.offramp.loader.gguf;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A model loaded from a GGUF file: config from its metadata, weights as views over the mapping.
 * Closing it unmaps the file.
 */
public final class GgufModelSource implements ModelSource {

    private final Path path;
    private final GgufFile gguf;
    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final Map<String, Object> metadata;

    GgufModelSource(Path path, GgufFile gguf, ModelConfig config, Tokenizer tokenizer) {
        this.path = path;
        this.gguf = gguf;
        this.config = config;
        this.tokenizer = tokenizer;
        this.metadata = gguf.metadata().plainMap();
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Map<String, Tensor> tensors() {
        return gguf.tensors();
    }

    @Override
    public Optional<Tokenizer> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /** GGUF key/values as {@link GgufValue#plain()} objects (arrays as {@link GgufArray}). */
    @Override
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** The underlying file, for typed metadata access. */
    public GgufFile gguf() {
        return gguf;
    }

    @Override
    public void close() {
        gguf.close();
    }
}
