package dev.offramp.core.eval;

/**
 * Outcome of a {@link Perplexity} run.
 *
 * @param perplexity {@code exp(meanNll)}
 * @param meanNll    mean negative log-likelihood (nats) over the scored tokens
 * @param stdError   standard error of {@code meanNll} (as llama-perplexity reports it, before the exp)
 * @param chunks     chunks evaluated
 * @param scored     tokens scored
 * @param tokens     tokens the whole text became (BOS included when the tokenizer adds one)
 */
public record PerplexityResult(double perplexity, double meanNll, double stdError, int chunks, long scored, int tokens) {
}
