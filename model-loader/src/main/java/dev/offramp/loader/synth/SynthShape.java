package dev.offramp.loader.synth;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The dimensions of a synthetic Llama-architecture model. Named shapes copy published models'
 * configs; their vocabulary size is that of the tokenizer borrowed for them (SmolLM-135M's own
 * 49,152-token vocabulary is not available here, so it gets Llama 2's 32,000, as the peer
 * measurements in {@code shared/notes/peers.md} did).
 *
 * <pre>{@code
 * SynthShape s = SynthShape.named("tinyllama-1.1b").orElseThrow();
 * SynthShape tiny = new SynthShape("tiny", 64, 2, 4, 2, 128, 256, 512, 10000f, 1e-5f, true, SynthVocab.NONE, false);
 * }</pre>
 *
 * @param name          shape name (recorded in the file)
 * @param dim           hidden size
 * @param layers        decoder blocks
 * @param heads         query heads
 * @param kvHeads       key/value heads
 * @param ffnDim        SwiGLU intermediate size
 * @param vocabSize     vocabulary rows (must equal the borrowed tokenizer's token count)
 * @param contextLength trained context recorded in the metadata
 * @param ropeTheta     RoPE base
 * @param normEps       RMSNorm epsilon
 * @param tied          no {@code output.weight}: the embedding is the head
 * @param vocab         the tokenizer to borrow
 * @param llama3Rope    add a {@code rope_freqs.weight} with Llama 3.1/3.2 frequency scaling (factor 32, 1, 4, 8192)
 */
public record SynthShape(String name, int dim, int layers, int heads, int kvHeads, int ffnDim, int vocabSize,
                         int contextLength, float ropeTheta, float normEps, boolean tied, SynthVocab vocab,
                         boolean llama3Rope) {

    public SynthShape {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(vocab, "vocab");
        if (dim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || ffnDim <= 0 || vocabSize <= 0 || contextLength <= 0) {
            throw new IllegalArgumentException("shape " + name + ": every dimension must be positive");
        }
        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
            throw new IllegalArgumentException("shape " + name + ": dim " + dim + " / heads " + heads + " / kvHeads "
                    + kvHeads + " do not give an even head size shared by whole KV groups");
        }
        if (vocab != SynthVocab.NONE && vocab.tokens() != vocabSize) {
            throw new IllegalArgumentException("shape " + name + ": vocabSize " + vocabSize + " differs from the "
                    + vocab.tokens() + " tokens of " + vocab);
        }
    }

    public int headDim() {
        return dim / heads;
    }

    private static final Map<String, SynthShape> NAMED = new LinkedHashMap<>();

    static {
        add(new SynthShape("tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000, 2048, 10000f, 1e-5f, false,
                SynthVocab.LLAMA2_SPM, false));
        add(new SynthShape("llama-3.2-1b", 2048, 16, 32, 8, 8192, 128256, 131072, 500000f, 1e-5f, true,
                SynthVocab.LLAMA3_BPE, true));
        add(new SynthShape("smollm-135m", 576, 30, 9, 3, 1536, 32000, 2048, 10000f, 1e-5f, true,
                SynthVocab.LLAMA2_SPM, false));
    }

    private static void add(SynthShape s) {
        NAMED.put(s.name(), s);
    }

    /** The named shapes: {@code tinyllama-1.1b}, {@code llama-3.2-1b}, {@code smollm-135m}. */
    public static Map<String, SynthShape> named() {
        return java.util.Collections.unmodifiableMap(NAMED);
    }

    public static Optional<SynthShape> named(String name) {
        return Optional.ofNullable(NAMED.get(name));
    }

    /** This shape with {@code n} layers (for quick variants of a named shape). */
    public SynthShape withLayers(int n) {
        return new SynthShape(name, dim, n, heads, kvHeads, ffnDim, vocabSize, contextLength, ropeTheta, normEps, tied,
                vocab, llama3Rope);
    }
}
