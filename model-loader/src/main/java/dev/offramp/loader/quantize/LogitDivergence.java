package dev.offramp.loader.quantize;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.model.ExitPlan;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;

import java.util.HashMap;
import java.util.Map;

/**
 * How far a model with some weights replaced drifts from a reference model: the mean KL divergence
 * {@code KL(reference || changed)} of the next-token distributions over every position of a few
 * calibration chunks. The reference pass keeps its log-probabilities and each layer's output, so a
 * model that differs only from layer {@code l} on is re-run from layer {@code l} (half the layers on
 * average), not from the embeddings.
 *
 * <pre>{@code
 * try (LogitDivergence d = LogitDivergence.reference(config, tensors, backend, tokens, 1, 256, 4)) {
 *     double kl = d.of(Map.of("blk.3.attn_v.weight", quantized));
 * }
 * }</pre>
 */
public final class LogitDivergence implements AutoCloseable {

    private final ModelConfig config;
    private final Map<String, Tensor> reference;
    private final Backend backend;
    private final int[][] chunks;
    private final int ctx;
    /** In double: float log-probabilities alone would leave a KL floor of ~1e-8 nats. */
    private final double[][] refLogProbs;
    /** hidden[l] holds layer l's output for all chunks, chunk c at rows c * ctx ... */
    private final Activations[] hidden;

    private LogitDivergence(ModelConfig config, Map<String, Tensor> reference, Backend backend, int[][] chunks,
                            int ctx) {
        this.config = config;
        this.reference = Map.copyOf(reference);
        this.backend = backend;
        this.chunks = chunks;
        this.ctx = ctx;
        this.refLogProbs = new double[chunks.length][];
        this.hidden = new Activations[config.layers()];
    }

    /**
     * Runs the reference model over the first {@code chunkCount} chunks of {@code ctx} tokens.
     *
     * @param bos id written over each chunk's first token (as llama-perplexity does), or negative
     * @throws IllegalArgumentException when the text has fewer than {@code ctx} tokens
     */
    public static LogitDivergence reference(ModelConfig config, Map<String, Tensor> tensors, Backend backend,
                                            int[] tokens, int bos, int ctx, int chunkCount) {
        if (ctx < 2 || ctx > config.contextLength()) {
            throw new IllegalArgumentException("calibration context must be in [2, " + config.contextLength()
                    + "], got " + ctx);
        }
        int n = Math.min(chunkCount, tokens.length / ctx);
        if (n < 1) {
            throw new IllegalArgumentException("the calibration text has " + tokens.length + " tokens; at least "
                    + ctx + " are needed (one chunk)");
        }
        int[][] chunks = new int[n][];
        for (int c = 0; c < n; c++) {
            chunks[c] = java.util.Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            if (bos >= 0) {
                chunks[c][0] = bos;
            }
        }
        LogitDivergence d = new LogitDivergence(config, tensors, backend, chunks, ctx);
        try {
            for (int l = 0; l < d.hidden.length; l++) {
                d.hidden[l] = backend.allocate(n * ctx, config.dim());
            }
            LlamaModel m = LlamaModel.bind(config, tensors, backend);
            float[] logits = new float[ctx * config.vocabSize()];
            try (ForwardState s = m.newState(ctx, DType.F32, ctx)) {
                for (int c = 0; c < n; c++) {
                    int base = c * ctx;
                    ExitPlan keep = ExitPlan.full().observedBy((layer, h, start, rows) ->
                            backend.copyRows(h, 0, d.hidden[layer], base + start, rows));
                    m.forward(s, chunks[c], d.positions(), ctx, keep, d.allRows(), logits);
                    d.refLogProbs[c] = logSoftmaxRows(logits, ctx, config.vocabSize());
                }
            }
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    /** Tokens per chunk times chunks: the positions each divergence averages over. */
    public int positionCount() {
        return chunks.length * ctx;
    }

    /**
     * Mean KL(reference || changed) per position, in nats, for the reference with {@code replaced}
     * tensors swapped in.
     */
    public double of(Map<String, Tensor> replaced) {
        Map<String, Tensor> t = new HashMap<>(reference);
        t.putAll(replaced);
        int first = config.layers();
        for (String name : replaced.keySet()) {
            first = Math.min(first, firstLayerReading(name));
        }
        LlamaModel m = LlamaModel.bind(config, t, backend);
        int vocab = config.vocabSize();
        float[] logits = new float[ctx * vocab];
        double sum = 0;
        try (ForwardState s = m.newState(ctx, DType.F32, ctx)) {
            for (int c = 0; c < chunks.length; c++) {
                if (first == 0) {
                    m.forward(s, chunks[c], positions(), ctx, ExitPlan.full(), allRows(), logits);
                } else {
                    m.forwardFrom(s, first, hidden[first - 1], c * ctx, positions(), ctx, ExitPlan.full(), allRows(),
                            logits);
                }
                sum += klRows(refLogProbs[c], logits, ctx, vocab);
            }
        }
        return sum / ((double) chunks.length * ctx);
    }

    /** The first layer whose computation reads tensor {@code name} (the layer count for the output head). */
    int firstLayerReading(String name) {
        if (name.startsWith("blk.")) {
            int dot = name.indexOf('.', 4);
            return Integer.parseInt(name.substring(4, dot));
        }
        if (name.equals("output.weight") || name.equals("output_norm.weight")) {
            return config.layers();
        }
        return 0; // token_embd (also the head when tied) and anything unknown: run everything
    }

    private int[] positions() {
        int[] p = new int[ctx];
        for (int i = 0; i < ctx; i++) {
            p[i] = i;
        }
        return p;
    }

    private int[] allRows() {
        return positions();
    }

    static double[] logSoftmaxRows(float[] logits, int rows, int vocab) {
        double[] out = new double[rows * vocab];
        for (int r = 0; r < rows; r++) {
            int off = r * vocab;
            double lse = logSumExp(logits, off, vocab);
            for (int i = 0; i < vocab; i++) {
                out[off + i] = logits[off + i] - lse;
            }
        }
        return out;
    }

    /** Sum over rows of KL(p || q), p given as log-probabilities, q as raw logits. */
    static double klRows(double[] refLogProbs, float[] logits, int rows, int vocab) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int off = r * vocab;
            double lse = logSumExp(logits, off, vocab);
            double kl = 0;
            for (int i = 0; i < vocab; i++) {
                double lp = refLogProbs[off + i];
                kl += Math.exp(lp) * (lp - (logits[off + i] - lse));
            }
            // Rounding can leave a tiny negative sum when the two distributions are equal.
            total += Math.max(0, kl);
        }
        return total;
    }

    private static double logSumExp(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.exp(x[off + i] - max);
        }
        return max + Math.log(s);
    }

    @Override
    public void close() {
        for (Activations a : hidden) {
            if (a != null) {
                a.close();
            }
        }
    }
}
