package dev.offramp.core.model;

import java.util.Objects;

/**
 * The one description of a Llama-family decoder, whatever file it came from (GGUF metadata or an
 * HF {@code config.json}).
 *
 * @param architecture     {@code llama}, {@code qwen2}, {@code mistral}, ... (GGUF's {@code general.architecture})
 * @param vocabSize        rows of the embedding table
 * @param dim              hidden size
 * @param layers           decoder blocks
 * @param heads            query heads
 * @param kvHeads          key/value heads (GQA when fewer than {@code heads})
 * @param headDim          per-head size (usually {@code dim / heads})
 * @param ffnDim           SwiGLU intermediate size
 * @param contextLength    the context the model was trained for (a KV cache is sized from what the caller asks)
 * @param normEps          RMSNorm epsilon
 * @param ropeTheta        RoPE base frequency
 * @param ropeDim          rotated dimensions per head (== headDim unless partial rotary)
 * @param ropeStyle        which element pairs rotate together, as stored in this source
 * @param ropeScaling      frequency scaling for long contexts
 * @param tiedEmbeddings   the output head is the embedding table
 * @param attentionBias    q/k/v projections have biases (Qwen2)
 * @param attentionOutBias the output projection has a bias
 * @param mlpBias          gate/up/down projections have biases
 */
public record ModelConfig(
        String architecture,
        int vocabSize,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffnDim,
        int contextLength,
        float normEps,
        float ropeTheta,
        int ropeDim,
        RopeStyle ropeStyle,
        RopeScaling ropeScaling,
        boolean tiedEmbeddings,
        boolean attentionBias,
        boolean attentionOutBias,
        boolean mlpBias) {

    public ModelConfig {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(ropeStyle, "ropeStyle");
        Objects.requireNonNull(ropeScaling, "ropeScaling");
        positive("vocabSize", vocabSize);
        positive("dim", dim);
        positive("layers", layers);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("headDim", headDim);
        positive("ffnDim", ffnDim);
        positive("contextLength", contextLength);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of kvHeads (" + kvHeads + ")");
        }
        if (ropeDim <= 0 || ropeDim > headDim || ropeDim % 2 != 0) {
            throw new IllegalArgumentException("ropeDim " + ropeDim + " must be even and in (0, headDim=" + headDim + "]");
        }
        if (!(normEps > 0) || !(ropeTheta > 0)) {
            throw new IllegalArgumentException("normEps and ropeTheta must be positive: " + normEps + ", " + ropeTheta);
        }
    }

    private static void positive(String field, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException("model config field " + field + " must be positive, got " + v);
        }
    }

    /** Width of the K (and V) projection: {@code kvHeads * headDim}. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Width of the Q projection: {@code heads * headDim}. */
    public int qDim() {
        return heads * headDim;
    }

    /** A plain Llama config (NORMAL RoPE as in llama GGUFs, no biases, no scaling): handy in tests. */
    public static ModelConfig llama(int vocabSize, int dim, int layers, int heads, int kvHeads, int ffnDim,
                                    int contextLength, float normEps, float ropeTheta, boolean tied) {
        int headDim = dim / heads;
        return new ModelConfig("llama", vocabSize, dim, layers, heads, kvHeads, headDim, ffnDim, contextLength,
                normEps, ropeTheta, headDim, RopeStyle.NORMAL, RopeScaling.NONE, tied, false, false, false);
    }
}
