package dev.offramp.loader.quantize;

import dev.offramp.core.model.ExitPlan;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.tensor.DType;

import java.util.Arrays;

/**
 * Held-out quality of a quantized model against its F32 original, for the mixed-precision checks:
 * per-token NLL under llama-perplexity's definition (ctx-token chunks from an empty cache, BOS over
 * the first token, the second half scored), so the mean equals {@code offramp perplexity}'s and two
 * models can be compared token by token (paired difference and its standard error); KL(F32 || model)
 * and top-1 agreement on the same positions; greedy agreement over a continuation.
 */
record HeldOutScores(double[] nll, float[][] logProbs, double kl, double top1) {

    double meanNll() {
        return Arrays.stream(nll).average().orElseThrow();
    }

    double perplexity() {
        return Math.exp(meanNll());
    }

    /** Mean of {@code this - other} per token and the standard error of that mean. */
    double[] pairedDiff(HeldOutScores other) {
        double s = 0;
        double s2 = 0;
        for (int i = 0; i < nll.length; i++) {
            double d = nll[i] - other.nll[i];
            s += d;
            s2 += d * d;
        }
        double m = s / nll.length;
        return new double[] {m, Math.sqrt(Math.max(0, s2 / nll.length - m * m) / (nll.length - 1))};
    }

    /** @param reference the F32 model's scores (null while scoring the F32 model itself) */
    static HeldOutScores of(LlamaModel m, int[] tokens, int bos, int ctx, HeldOutScores reference) {
        int vocab = m.config().vocabSize();
        int chunks = tokens.length / ctx;
        int first = ctx / 2;
        int[] rows = new int[ctx - 1 - first];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = first + r;
        }
        int[] pos = new int[ctx];
        for (int i = 0; i < ctx; i++) {
            pos[i] = i;
        }
        double[] nll = new double[chunks * rows.length];
        float[][] lps = new float[chunks][];
        float[] logits = new float[rows.length * vocab];
        double kl = 0;
        int agree = 0;
        int k = 0;
        try (ForwardState s = m.newState(ctx, DType.F32, ctx)) {
            for (int c = 0; c < chunks; c++) {
                int[] chunk = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
                if (bos >= 0) {
                    chunk[0] = bos;
                }
                m.forward(s, chunk, pos, ctx, ExitPlan.full(), rows, logits);
                float[] lp = new float[logits.length];
                for (int r = 0; r < rows.length; r++) {
                    int off = r * vocab;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int v = 0; v < vocab; v++) {
                        max = Math.max(max, logits[off + v]);
                    }
                    double sum = 0;
                    for (int v = 0; v < vocab; v++) {
                        sum += Math.exp(logits[off + v] - max);
                    }
                    double lse = max + Math.log(sum);
                    for (int v = 0; v < vocab; v++) {
                        lp[off + v] = (float) (logits[off + v] - lse);
                    }
                    nll[k] = -((logits[off + chunk[first + r + 1]] - max) - Math.log(sum));
                    if (reference != null) {
                        float[] ref = reference.logProbs[c];
                        double d = 0;
                        for (int v = 0; v < vocab; v++) {
                            d += Math.exp(ref[off + v]) * (ref[off + v] - lp[off + v]);
                        }
                        kl += d;
                        agree += argmax(ref, off, vocab) == argmax(lp, off, vocab) ? 1 : 0;
                    }
                    k++;
                }
                lps[c] = lp;
            }
        }
        return new HeldOutScores(nll, lps, reference == null ? 0 : kl / k, reference == null ? 1 : (double) agree / k);
    }

    /** Greedy continuation of {@code prompt} for {@code n} tokens (EOS does not stop it). */
    static int[] greedy(LlamaModel m, int[] prompt, int n) {
        int vocab = m.config().vocabSize();
        int[] out = new int[n];
        float[] logits = new float[vocab];
        try (ForwardState s = m.newState(prompt.length + n, DType.F32, prompt.length)) {
            int[] pos = new int[prompt.length];
            for (int i = 0; i < pos.length; i++) {
                pos[i] = i;
            }
            m.forward(s, prompt, pos, prompt.length, ExitPlan.full(), new int[] {prompt.length - 1}, logits);
            for (int i = 0; i < n; i++) {
                out[i] = argmax(logits, 0, vocab);
                if (i + 1 < n) {
                    m.forward(s, new int[] {out[i]}, new int[] {prompt.length + i}, 1, ExitPlan.full(), new int[] {0},
                            logits);
                }
            }
        }
        return out;
    }

    /** Positions where the model's argmax, fed {@code reference} after {@code prompt}, equals the reference token. */
    static int teacherForced(LlamaModel m, int[] prompt, int[] reference) {
        int vocab = m.config().vocabSize();
        int n = prompt.length + reference.length - 1;
        int[] tokens = new int[n];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        System.arraycopy(reference, 0, tokens, prompt.length, reference.length - 1);
        int[] pos = new int[n];
        int[] rows = new int[reference.length];
        for (int i = 0; i < n; i++) {
            pos[i] = i;
        }
        for (int i = 0; i < rows.length; i++) {
            rows[i] = prompt.length - 1 + i;
        }
        float[] logits = new float[rows.length * vocab];
        try (ForwardState s = m.newState(n, DType.F32, n)) {
            m.forward(s, tokens, pos, n, ExitPlan.full(), rows, logits);
        }
        int agree = 0;
        for (int i = 0; i < rows.length; i++) {
            agree += argmax(logits, i * vocab, vocab) == reference[i] ? 1 : 0;
        }
        return agree;
    }

    static int commonPrefix(int[] a, int[] b) {
        int i = 0;
        while (i < a.length && i < b.length && a[i] == b[i]) {
            i++;
        }
        return i;
    }

    private static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[off + i] > x[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
