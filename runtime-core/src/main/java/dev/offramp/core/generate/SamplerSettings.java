package dev.offramp.core.generate;

/**
 * How the next token is picked from logits. The steps run in llama.cpp's default order:
 * repetition/frequency/presence penalties over the last {@code repeatLastN} tokens, then top-k,
 * top-p, min-p, temperature, and a draw from the softmax. A temperature of 0 (or less) is greedy
 * argmax after the penalties.
 *
 * <pre>{@code
 * SamplerSettings s = SamplerSettings.defaults().withTemperature(0.7f).withSeed(42);
 * }</pre>
 *
 * @param temperature      logits are divided by it; {@code <= 0} means greedy
 * @param topK             keep the k most likely tokens; {@code <= 0} keeps all
 * @param topP             keep the smallest prefix whose probability reaches p; {@code >= 1} keeps all
 * @param minP             drop tokens less likely than {@code minP * p(best)}; {@code <= 0} keeps all
 * @param repeatPenalty    divides positive (multiplies negative) logits of recent tokens; 1 is off
 * @param repeatLastN      how many recent tokens the penalties look at (0: none)
 * @param frequencyPenalty subtracted once per occurrence of a recent token
 * @param presencePenalty  subtracted once for any recent token
 * @param seed             random seed: the same seed gives the same text
 */
public record SamplerSettings(float temperature, int topK, float topP, float minP,
                              float repeatPenalty, int repeatLastN,
                              float frequencyPenalty, float presencePenalty, long seed) {

    public SamplerSettings {
        if (!Float.isFinite(temperature) || !(topP >= 0) || !(minP >= 0) || !(repeatPenalty > 0)
                || repeatLastN < 0 || !Float.isFinite(frequencyPenalty) || !Float.isFinite(presencePenalty)) {
            throw new IllegalArgumentException("invalid sampler settings: " + describe(temperature, topK, topP,
                    minP, repeatPenalty, repeatLastN));
        }
    }

    private static String describe(float t, int k, float p, float mp, float rp, int n) {
        return "temperature=" + t + " topK=" + k + " topP=" + p + " minP=" + mp + " repeatPenalty=" + rp
                + " repeatLastN=" + n;
    }

    /** Argmax, no penalties. */
    public static SamplerSettings greedy() {
        return new SamplerSettings(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 0L);
    }

    /** llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no repetition penalty. */
    public static SamplerSettings defaults() {
        return new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1f, 64, 0f, 0f, 0L);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }

    public SamplerSettings withTemperature(float t) {
        return new SamplerSettings(t, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerSettings withTopK(int k) {
        return new SamplerSettings(temperature, k, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerSettings withTopP(float p) {
        return new SamplerSettings(temperature, topK, p, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerSettings withMinP(float p) {
        return new SamplerSettings(temperature, topK, topP, p, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerSettings withRepeatPenalty(float penalty, int lastN) {
        return new SamplerSettings(temperature, topK, topP, minP, penalty, lastN, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerSettings withFrequencyPresence(float frequency, float presence) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequency, presence, seed);
    }

    public SamplerSettings withSeed(long s) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, s);
    }
}
