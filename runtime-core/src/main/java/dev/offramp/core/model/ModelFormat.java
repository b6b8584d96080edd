package dev.offramp.core.model;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file format reader, found through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/dev.offramp.core.model.ModelFormat}); {@code model-loader} registers GGUF
 * and HF safetensors folders. This keeps runtime-core free of file formats.
 */
public interface ModelFormat {

    /** {@code gguf}, {@code safetensors}, ... */
    String name();

    /** Whether this reader understands {@code path} (by magic bytes or folder contents, not by trust in the name alone). */
    boolean accepts(Path path);

    /**
     * Opens the model at {@code path}. {@code tokenizerOverride} (may be null) is a file to take the
     * tokenizer from instead (tokenizer.json, tokenizer.model, or a GGUF).
     */
    ModelSource open(Path path, Path tokenizerOverride) throws IOException;
}
