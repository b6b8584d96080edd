package dev.offramp.core.eval;

import dev.offramp.core.model.ExitPlan;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tokenizer.Tokenizer;

import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * Perplexity over a text, defined exactly as llama.cpp's {@code llama-perplexity} does it, so the
 * numbers compare with llama.cpp's: the whole text is tokenized once (BOS first when the tokenizer
 * adds one); it is cut into {@code ctx}-token chunks (a tail shorter than {@code ctx} is dropped);
 * each chunk starts with an empty KV cache and its first token is replaced by BOS; only the
 * predictions of the second half of a chunk are scored (they all see at least {@code ctx/2}
 * tokens of context), i.e. positions {@code ctx/2 .. ctx-2} predict tokens
 * {@code ctx/2+1 .. ctx-1}. PPL = exp(mean NLL), log-softmax in double as llama.cpp does.
 *
 * <pre>{@code
 * try (Generator g = Models.load(Path.of("model.gguf"))) {
 *     PerplexityResult r = Perplexity.of(g.model(), g.tokenizer(), text, 512, 512, null);
 *     System.out.printf("PPL %.4f%n", r.perplexity());
 * }
 * }</pre>
 */
public final class Perplexity {

    private Perplexity() {
    }

    /**
     * @param ctx      tokens per chunk (llama.cpp {@code -c})
     * @param batch    tokens per forward step (llama.cpp {@code -b}; at most {@code ctx}); does not change
     *                 the result beyond float rounding since the kernels are batch invariant
     * @param progress called with each finished chunk's index, or null
     * @throws IllegalArgumentException when the text is shorter than {@code 2 * ctx} tokens (llama.cpp's rule)
     */
    public static PerplexityResult of(LlamaModel model, Tokenizer tokenizer, String text, int ctx, int batch,
                                      IntConsumer progress) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(text, "text");
        int[] tokens = tokenizer.encode(text, true, false);
        return ofTokens(model, tokens, tokenizer.addsBos() ? tokenizer.bos() : -1, ctx, batch, Integer.MAX_VALUE,
                progress);
    }

    /**
     * Perplexity of an already tokenized text.
     *
     * @param bos       the id written over each chunk's first token, or negative to leave chunks as they are
     *                  (llama.cpp does so when the vocabulary adds no BOS)
     * @param maxChunks evaluate at most this many chunks (llama.cpp {@code --chunks})
     */
    public static PerplexityResult ofTokens(LlamaModel model, int[] tokens, int bos, int ctx, int batch,
                                            int maxChunks, IntConsumer progress) {
        if (ctx < 4) {
            throw new IllegalArgumentException("context must be at least 4 tokens, got " + ctx);
        }
        if (ctx > model.config().contextLength()) {
            System.getLogger(Perplexity.class.getName()).log(System.Logger.Level.WARNING,
                    "context {0} exceeds the model''s training context {1}", ctx, model.config().contextLength());
        }
        if (batch <= 0) {
            throw new IllegalArgumentException("batch must be positive, got " + batch);
        }
        if (maxChunks <= 0) {
            throw new IllegalArgumentException("chunks must be positive, got " + maxChunks);
        }
        batch = Math.min(batch, ctx);
        if (tokens.length < 2 * ctx) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens; perplexity at context "
                    + ctx + " needs at least " + 2 * ctx + " (use a smaller --ctx or a longer text)");
        }
        int chunks = Math.min(tokens.length / ctx, maxChunks);
        int first = ctx / 2;
        int vocab = model.config().vocabSize();
        int scoredPerChunk = ctx - 1 - first;
        double nll = 0;
        double nll2 = 0;
        long count = 0;
        int[] chunk = new int[ctx];
        int[] positions = new int[ctx];
        for (int i = 0; i < ctx; i++) {
            positions[i] = i;
        }
        float[] logits = new float[batch * vocab];
        try (ForwardState state = model.newState(ctx, DType.F32, batch)) {
            for (int c = 0; c < chunks; c++) {
                System.arraycopy(tokens, c * ctx, chunk, 0, ctx);
                if (bos >= 0) {
                    chunk[0] = bos;
                }
                for (int start = 0; start < ctx; start += batch) {
                    int n = Math.min(batch, ctx - start);
                    // Only rows that predict a scored token need logits: positions first .. ctx-2.
                    int lo = Math.max(start, first);
                    int hi = Math.min(start + n, ctx - 1);
                    int[] rows = new int[Math.max(0, hi - lo)];
                    for (int r = 0; r < rows.length; r++) {
                        rows[r] = lo - start + r;
                    }
                    int[] part = start == 0 && n == ctx ? chunk : java.util.Arrays.copyOfRange(chunk, start, start + n);
                    int[] pos = start == 0 && n == ctx ? positions
                            : java.util.Arrays.copyOfRange(positions, start, start + n);
                    model.forward(state, part, pos, n, ExitPlan.full(), rows, logits);
                    for (int r = 0; r < rows.length; r++) {
                        int target = chunk[lo + r + 1];
                        double v = -logSoftmax(logits, r * vocab, vocab, target);
                        nll += v;
                        nll2 += v * v;
                        count++;
                    }
                }
                if (progress != null) {
                    progress.accept(c);
                }
            }
        }
        double mean = nll / count;
        double var = nll2 / count - mean * mean;
        double err = count > 1 ? Math.sqrt(Math.max(0, var) / (count - 1)) : 0;
        assert count == (long) chunks * scoredPerChunk;
        return new PerplexityResult(Math.exp(mean), mean, err, chunks, count, tokens.length);
    }

    /** log p(target) under softmax(logits[off .. off+n)): float max, double sum of exps, as llama.cpp. */
    static double logSoftmax(float[] logits, int off, int n, int target) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        return (logits[off + target] - max) - Math.log(sum);
    }
}
