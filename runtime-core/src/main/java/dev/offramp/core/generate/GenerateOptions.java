package dev.offramp.core.generate;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One generation request's limits and rules.
 *
 * <pre>{@code
 * GenerateOptions o = GenerateOptions.greedy(100).withStopStrings(List.of("\n\n"));
 * }</pre>
 *
 * @param maxTokens   tokens to generate at most
 * @param sampler     how tokens are picked
 * @param stopStrings generation ends when the text contains one; it and what follows are not emitted
 * @param ignoreEos   keep going past end-of-generation tokens
 * @param cancel      polled before each token; {@code true} ends generation (may be null)
 */
public record GenerateOptions(int maxTokens, SamplerSettings sampler, List<String> stopStrings,
                              boolean ignoreEos, BooleanSupplier cancel) {

    public GenerateOptions {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        }
        if (sampler == null) {
            throw new IllegalArgumentException("sampler settings are required");
        }
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
        if (cancel == null) {
            cancel = () -> false;
        }
    }

    /** Greedy decoding of up to {@code maxTokens} tokens. */
    public static GenerateOptions greedy(int maxTokens) {
        return new GenerateOptions(maxTokens, SamplerSettings.greedy(), List.of(), false, null);
    }

    /** Sampling with {@code sampler} of up to {@code maxTokens} tokens. */
    public static GenerateOptions sampled(int maxTokens, SamplerSettings sampler) {
        return new GenerateOptions(maxTokens, sampler, List.of(), false, null);
    }

    public GenerateOptions withMaxTokens(int n) {
        return new GenerateOptions(n, sampler, stopStrings, ignoreEos, cancel);
    }

    public GenerateOptions withSampler(SamplerSettings s) {
        return new GenerateOptions(maxTokens, s, stopStrings, ignoreEos, cancel);
    }

    public GenerateOptions withStopStrings(List<String> stops) {
        return new GenerateOptions(maxTokens, sampler, stops, ignoreEos, cancel);
    }

    public GenerateOptions withIgnoreEos(boolean ignore) {
        return new GenerateOptions(maxTokens, sampler, stopStrings, ignore, cancel);
    }

    public GenerateOptions withCancel(BooleanSupplier c) {
        return new GenerateOptions(maxTokens, sampler, stopStrings, ignoreEos, c);
    }
}
