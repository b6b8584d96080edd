package dev.offramp.loader.quantize;

import dev.offramp.core.tensor.DType;

import java.util.Map;
import java.util.Objects;

/**
 * What {@link GgufQuantizer} makes of a model.
 *
 * <pre>{@code
 * QuantizeOptions o = QuantizeOptions.of(DType.Q4_0).withTokenEmbeddingType(DType.Q8_0);
 * }</pre>
 *
 * @param type               the type of 2-D weights
 * @param tokenEmbeddingType type of {@code token_embd.weight} (null: llama.cpp's rule)
 * @param outputType         type of the output head ({@code output.weight}, or {@code token_embd.weight}
 *                           when the embeddings are tied; null: llama.cpp's rule)
 * @param overrides          per-tensor types that win over everything else (used by {@code --mixed})
 * @param threads            worker threads (0 = one per core)
 * @param allowRequantize    accept a source whose weights are already quantized (quality suffers)
 */
public record QuantizeOptions(DType type, DType tokenEmbeddingType, DType outputType, Map<String, DType> overrides,
                              int threads, boolean allowRequantize) {

    public QuantizeOptions {
        Objects.requireNonNull(type, "type");
        overrides = Map.copyOf(overrides);
        for (DType t : new DType[] {type, tokenEmbeddingType, outputType}) {
            if (t != null && !RowCodec.canEncode(t)) {
                throw new IllegalArgumentException("cannot quantize to " + t + " (GGUF types: F32, F16, BF16, Q8_0, Q4_0, "
                        + "Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
            }
        }
        overrides.forEach((k, v) -> {
            if (!RowCodec.canEncode(v)) {
                throw new IllegalArgumentException("tensor " + k + ": cannot quantize to " + v);
            }
        });
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
    }

    public static QuantizeOptions of(DType type) {
        return new QuantizeOptions(type, null, null, Map.of(), 0, false);
    }

    public QuantizeOptions withTokenEmbeddingType(DType t) {
        return new QuantizeOptions(type, t, outputType, overrides, threads, allowRequantize);
    }

    public QuantizeOptions withOutputType(DType t) {
        return new QuantizeOptions(type, tokenEmbeddingType, t, overrides, threads, allowRequantize);
    }

    public QuantizeOptions withOverrides(Map<String, DType> o) {
        return new QuantizeOptions(type, tokenEmbeddingType, outputType, o, threads, allowRequantize);
    }

    public QuantizeOptions withThreads(int n) {
        return new QuantizeOptions(type, tokenEmbeddingType, outputType, overrides, n, allowRequantize);
    }

    public QuantizeOptions withAllowRequantize(boolean b) {
        return new QuantizeOptions(type, tokenEmbeddingType, outputType, overrides, threads, b);
    }
}
