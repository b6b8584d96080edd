package dev.offramp.loader.synth;

import dev.offramp.core.tensor.DType;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What to synthesize.
 *
 * <pre>{@code
 * SynthOptions o = SynthOptions.of(SynthShape.named("smollm-135m").orElseThrow(), DType.Q8_0)
 *         .withSeed(7).withVocabFile(Path.of("ggml-vocab-llama-spm.gguf")).withInertFrom(20);
 * }</pre>
 *
 * @param shape         the dimensions
 * @param type          type of the 2-D weight matrices (norms and {@code rope_freqs} stay F32)
 * @param embeddingType type of {@code token_embd.weight}; null = {@code type}
 * @param outputType    type of {@code output.weight} (untied shapes); null = {@code type}, except Q8_0 when
 *                      {@code type} is Q4_0 (llama-quantize also keeps the head at higher precision)
 * @param seed          same seed, same options: same bytes
 * @param inertFrom     layers {@code >= inertFrom} get all-zero {@code attn_output} and {@code ffn_down}
 *                      weights, so the residual stream leaves them unchanged ({@code h_L == h_E});
 *                      {@code -1} for none
 * @param vocabFile     GGUF whose {@code tokenizer.*} metadata is copied; null only with {@link SynthVocab#NONE}
 */
public record SynthOptions(SynthShape shape, DType type, DType embeddingType, DType outputType, long seed,
                           int inertFrom, Path vocabFile) {

    public SynthOptions {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(type, "type");
        if (inertFrom < -1 || inertFrom > shape.layers()) {
            throw new IllegalArgumentException("inertFrom " + inertFrom + " must be -1 or in [0, " + shape.layers() + "]");
        }
    }

    public static SynthOptions of(SynthShape shape, DType type) {
        return new SynthOptions(shape, type, null, null, 0L, -1, null);
    }

    public SynthOptions withSeed(long s) {
        return new SynthOptions(shape, type, embeddingType, outputType, s, inertFrom, vocabFile);
    }

    public SynthOptions withInertFrom(int layer) {
        return new SynthOptions(shape, type, embeddingType, outputType, seed, layer, vocabFile);
    }

    public SynthOptions withVocabFile(Path file) {
        return new SynthOptions(shape, type, embeddingType, outputType, seed, inertFrom, file);
    }

    public SynthOptions withEmbeddingType(DType t) {
        return new SynthOptions(shape, type, t, outputType, seed, inertFrom, vocabFile);
    }

    public SynthOptions withOutputType(DType t) {
        return new SynthOptions(shape, type, embeddingType, t, seed, inertFrom, vocabFile);
    }

    DType effectiveEmbeddingType() {
        return embeddingType != null ? embeddingType : type;
    }

    DType effectiveOutputType() {
        if (outputType != null) {
            return outputType;
        }
        return type == DType.Q4_0 ? DType.Q8_0 : type;
    }
}
