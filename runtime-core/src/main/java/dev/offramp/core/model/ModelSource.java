package dev.offramp.core.model;

import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What a file format reader hands the runtime: a config, named weights (views over mapped memory),
 * the tokenizer, and the raw metadata for anything else (chat template, exit sidecar keys).
 *
 * <p>Weight names follow GGUF's conventions whatever the source ({@code token_embd.weight},
 * {@code blk.N.attn_q.weight}, {@code blk.N.ffn_gate.weight}, {@code output_norm.weight},
 * {@code output.weight}, {@code rope_freqs.weight}, ...); readers of other formats map their names.
 * Closing the source unmaps its files: weights must not be used afterwards.
 */
public interface ModelSource extends AutoCloseable {

    /** The file or folder this came from. */
    Path path();

    ModelConfig config();

    /** Weights by GGUF-convention name. */
    Map<String, Tensor> tensors();

    /** The tokenizer found with the model, if any. */
    Optional<Tokenizer> tokenizer();

    /** Format-level metadata (GGUF key/values; for HF folders, config.json keys prefixed {@code hf.}). */
    Map<String, Object> metadata();

    @Override
    void close();
}
