package dev.offramp.core.generate;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits with the steps of {@link SamplerSettings}, in
 * llama.cpp's default order (penalties, top-k, top-p, min-p, temperature, draw). Holds its random
 * stream and scratch buffers, so one sampler serves one sequence; it is not thread-safe.
 *
 * <pre>{@code
 * Sampler s = new Sampler(SamplerSettings.defaults().withSeed(7), vocab);
 * int next = s.sample(logits, 0, history, historyLength);
 * }</pre>
 */
public final class Sampler {

    private final SamplerSettings settings;
    private final int vocab;
    private final SplittableRandom random;
    private long[] keys;
    private float[] probs;

    public Sampler(SamplerSettings settings, int vocab) {
        this.settings = settings;
        this.vocab = vocab;
        this.random = new SplittableRandom(settings.seed());
    }

    public SamplerSettings settings() {
        return settings;
    }

    /**
     * Samples from {@code logits[offset .. offset + vocab)}, which the penalties modify in place.
     * {@code history[0..length)} are the tokens so far (the penalties look at the last
     * {@code repeatLastN} of them).
     */
    public int sample(float[] logits, int offset, int[] history, int length) {
        applyPenalties(logits, offset, history, length);
        if (settings.isGreedy()) {
            return argmax(logits, offset, vocab);
        }
        int n = candidates(logits, offset);
        // keys[0..n) now hold candidates by descending logit (ties: lower id first).
        float maxLogit = logitOf(keys[0]);
        if (settings.topP() < 1f && n > 1) {
            n = topP(n, maxLogit);
        }
        if (settings.minP() > 0f && n > 1) {
            // llama.cpp compares logits against max + log(minP): p_i >= minP * p_max without a softmax.
            float threshold = maxLogit + (float) Math.log(settings.minP());
            int keep = 1;
            while (keep < n && logitOf(keys[keep]) >= threshold) {
                keep++;
            }
            n = keep;
        }
        double invT = 1.0 / settings.temperature();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double p = Math.exp((logitOf(keys[i]) - maxLogit) * invT);
            probs[i] = (float) p;
            sum += p;
        }
        double u = random.nextDouble() * sum;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += probs[i];
            if (u < acc) {
                return idOf(keys[i]);
            }
        }
        return idOf(keys[n - 1]);
    }

    /** Index of the largest value in {@code a[offset .. offset + len)} (the first one on ties). */
    public static int argmax(float[] a, int offset, int len) {
        int best = 0;
        float bv = a[offset];
        for (int i = 1; i < len; i++) {
            if (a[offset + i] > bv) {
                bv = a[offset + i];
                best = i;
            }
        }
        return best;
    }

    private void applyPenalties(float[] logits, int offset, int[] history, int length) {
        boolean repeat = settings.repeatPenalty() != 1f;
        boolean freq = settings.frequencyPenalty() != 0f || settings.presencePenalty() != 0f;
        int window = Math.min(settings.repeatLastN(), length);
        if ((!repeat && !freq) || window == 0) {
            return;
        }
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = length - window; i < length; i++) {
            counts.merge(history[i], 1, Integer::sum);
        }
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            int id = e.getKey();
            if (id < 0 || id >= vocab) {
                continue;
            }
            int at = offset + id;
            float l = logits[at];
            if (repeat) {
                l = l <= 0 ? l * settings.repeatPenalty() : l / settings.repeatPenalty();
            }
            l -= e.getValue() * settings.frequencyPenalty() + settings.presencePenalty();
            logits[at] = l;
        }
    }

    /** Fills keys with the candidates after top-k, sorted by descending logit; returns their count. */
    private int candidates(float[] logits, int offset) {
        if (keys == null) {
            keys = new long[vocab];
            probs = new float[vocab];
        }
        int k = settings.topK() > 0 ? Math.min(settings.topK(), vocab) : vocab;
        if (k <= vocab / 8) {
            // Heap selection: O(V log k) instead of sorting a 100k+ vocabulary for every token.
            int size = 0;
            for (int i = 0; i < vocab; i++) {
                long key = key(logits[offset + i], i);
                if (size < k) {
                    keys[size] = key;
                    siftUp(size++);
                } else if (key > keys[0]) {
                    keys[0] = key;
                    siftDown(k);
                }
            }
            Arrays.sort(keys, 0, k);
        } else {
            for (int i = 0; i < vocab; i++) {
                keys[i] = key(logits[offset + i], i);
            }
            Arrays.sort(keys, 0, vocab);
            System.arraycopy(keys, vocab - k, keys, 0, k);
        }
        // ascending -> descending
        for (int i = 0, j = k - 1; i < j; i++, j--) {
            long t = keys[i];
            keys[i] = keys[j];
            keys[j] = t;
        }
        return k;
    }

    private void siftUp(int i) {
        long x = keys[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (keys[parent] <= x) {
                break;
            }
            keys[i] = keys[parent];
            i = parent;
        }
        keys[i] = x;
    }

    private void siftDown(int size) {
        long x = keys[0];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && keys[c + 1] < keys[c]) {
                c++;
            }
            if (keys[c] >= x) {
                break;
            }
            keys[i] = keys[c];
            i = c;
        }
        keys[i] = x;
    }

    private int topP(int n, float maxLogit) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double p = Math.exp(logitOf(keys[i]) - maxLogit);
            probs[i] = (float) p;
            sum += p;
        }
        double target = settings.topP() * sum;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += probs[i];
            if (acc >= target) {
                return i + 1;
            }
        }
        return n;
    }

    // A float's bits made monotonic as a signed int, above the id; ties sort lower ids last in
    // ascending order, i.e. first once reversed.
    private static long key(float logit, int id) {
        if (Float.isNaN(logit)) {
            logit = Float.NEGATIVE_INFINITY;
        }
        int b = Float.floatToIntBits(logit);
        b ^= (b >> 31) & 0x7fffffff;
        return ((long) b << 32) | (Integer.MAX_VALUE - id);
    }

    private static int idOf(long key) {
        return Integer.MAX_VALUE - (int) (key & 0xffffffffL);
    }

    private static float logitOf(long key) {
        int b = (int) (key >> 32);
        b ^= (b >> 31) & 0x7fffffff;
        return Float.intBitsToFloat(b);
    }
}
