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
 * @param mix                a llama.cpp k-quant mix ({@code Q4_K_M}, ...) whose per-tensor rules apply,
 *                           {@code type} then being its base type; null for a uniform type
 */
public record QuantizeOptions(DType type, DType tokenEmbeddingType, DType outputType, Map<String, DType> overrides,
                              int threads, boolean allowRequantize, KQuantMix mix) {

    public QuantizeOptions {
        Objects.requireNonNull(type, "type");
        if (mix != null && mix.base() != type) {
            throw new IllegalArgumentException("k-quant mix " + mix.label() + " has base type " + mix.base() + ", not " + type);
        }
        if (mix != null && !mix.available()) {
            throw new IllegalArgumentException("cannot quantize to " + mix.label() + ": this build has no "
                    + mix.base() + " quantizer");
        }
        overrides = Map.copyOf(overrides);
        for (DType t : new DType[] {type, tokenEmbeddingType, outputType}) {
            if (t != null && !RowCodec.canEncode(t)) {
                throw new IllegalArgumentException("cannot quantize to " + t + " (GGUF types: F32, F16, BF16, Q8_0, Q4_0, "
                        + "Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)");
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

    /** Options without a mix (the record's shape before mixes existed). */
    public QuantizeOptions(DType type, DType tokenEmbeddingType, DType outputType, Map<String, DType> overrides,
                           int threads, boolean allowRequantize) {
        this(type, tokenEmbeddingType, outputType, overrides, threads, allowRequantize, null);
    }

    public static QuantizeOptions of(DType type) {
        return new QuantizeOptions(type, null, null, Map.of(), 0, false, null);
    }

    /** llama.cpp's per-tensor rules for {@code mix} ({@code Q4_K_M}: most weights Q4_K, some Q6_K). */
    public static QuantizeOptions of(KQuantMix mix) {
        return new QuantizeOptions(mix.base(), null, null, Map.of(), 0, false, mix);
    }

    /** llama.cpp's {@code general.file_type} for these options. */
    public int fileType() {
        return mix != null ? mix.fileType() : GgufQuantizer.fileType(type);
    }

    public QuantizeOptions withTokenEmbeddingType(DType t) {
        return new QuantizeOptions(type, t, outputType, overrides, threads, allowRequantize, mix);
    }

    public QuantizeOptions withOutputType(DType t) {
        return new QuantizeOptions(type, tokenEmbeddingType, t, overrides, threads, allowRequantize, mix);
    }

    public QuantizeOptions withOverrides(Map<String, DType> o) {
        return new QuantizeOptions(type, tokenEmbeddingType, outputType, o, threads, allowRequantize, mix);
    }

    public QuantizeOptions withThreads(int n) {
        return new QuantizeOptions(type, tokenEmbeddingType, outputType, overrides, n, allowRequantize, mix);
    }

    public QuantizeOptions withAllowRequantize(boolean b) {
        return new QuantizeOptions(type, tokenEmbeddingType, outputType, overrides, threads, b, mix);
    }
}
