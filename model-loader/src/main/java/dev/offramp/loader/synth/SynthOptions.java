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
 * @param type          type of the 2-D weight matrices (norms and {@code rope_freqs} stay F32); rows that are
 *                      not whole blocks of it fall back as llama-quantize does (Q4_K to Q5_0, Q5_K to Q5_1,
 *                      Q6_K to Q8_0, then F16)
 * @param embeddingType type of {@code token_embd.weight} (wins even when it is the tied output head, like
 *                      llama-quantize's {@code --token-embedding-type}); null = llama-quantize's rule
 * @param outputType    type of the output head ({@code output.weight}, or {@code token_embd.weight} when
 *                      tied); null = llama-quantize's rule: Q6_K for quantized types other than Q8_0, Q8_0
 *                      when its rows are not a multiple of 256 or the type is Q8_0, {@code type} for float types
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

    /** The type a 2-D weight gets: its explicit type or {@code type}, then llama-quantize's block fallbacks. */
    DType typeFor(String name, long cols, boolean outputHead) {
        DType want = type;
        if (name.equals("token_embd.weight") && embeddingType != null) {
            want = embeddingType;
        } else if (outputHead && outputType != null) {
            want = outputType;
        } else if (outputHead && type.isQuantized()) {
            want = cols % 256 != 0 || type == DType.Q8_0 ? DType.Q8_0 : DType.Q6_K;
        }
        if (cols % want.blockSize() != 0) {
            want = switch (want) {
                case Q4_K -> DType.Q5_0;
                case Q5_K -> DType.Q5_1;
                case Q6_K -> DType.Q8_0;
                default -> DType.F16;
            };
            if (cols % want.blockSize() != 0) {
                want = DType.F16;
            }
        }
        return want;
    }
}
