package dev.offramp.core.generate;

/**
 * The outcome of one generation.
 *
 * @param text          the emitted text (without the prompt and without a matched stop string)
 * @param tokens        the generated token ids (including an end-of-generation token, if any)
 * @param promptTokens  tokens evaluated before the first generated token
 * @param stopReason    why it ended
 * @param promptNanos   time spent evaluating the prompt
 * @param generateNanos time spent generating after the prompt
 */
public record Generation(String text, int[] tokens, int promptTokens, StopReason stopReason,
                         long promptNanos, long generateNanos) {

    public Generation {
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    /** Prompt tokens per second (0 when no time was measured). */
    public double promptTokensPerSecond() {
        return promptNanos <= 0 ? 0 : promptTokens * 1e9 / promptNanos;
    }

    /** Generated tokens per second, counting the decode steps after the first token. */
    public double generationTokensPerSecond() {
        return generateNanos <= 0 ? 0 : tokens.length * 1e9 / generateNanos;
    }
}
