package dev.offramp.loader.convert;

import dev.offramp.core.tensor.DType;

import java.nio.file.Path;

/**
 * How {@link HfToGguf} and {@link GgufToHf} convert.
 *
 * @param type      weight type of the output's 2-D weights; null keeps each tensor's float type
 *                  (quantized GGUF weights become F32 in an HF folder)
 * @param tokenizer (HF to GGUF) where the vocabulary comes from instead of the model folder: a GGUF whose
 *                  {@code tokenizer.*} metadata is copied, a {@code tokenizer.json} (with the
 *                  {@code tokenizer_config.json} beside it), a SentencePiece {@code tokenizer.model}, or a
 *                  folder holding one of the latter two; null uses the folder's own
 * @param threads   worker threads for quantizing (0 = one per core)
 */
public record ConvertOptions(DType type, Path tokenizer, int threads) {

    public static ConvertOptions defaults() {
        return new ConvertOptions(null, null, 0);
    }

    public ConvertOptions withType(DType t) {
        return new ConvertOptions(t, tokenizer, threads);
    }

    public ConvertOptions withTokenizer(Path p) {
        return new ConvertOptions(type, p, threads);
    }

    public ConvertOptions withThreads(int n) {
        return new ConvertOptions(type, tokenizer, n);
    }
}
