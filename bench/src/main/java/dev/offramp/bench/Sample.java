package dev.offramp.bench;

/**
 * One timed repetition of one system.
 *
 * @param prefillTps prompt tokens per second (pp)
 * @param decodeTps  generated tokens per second (tg)
 */
record Sample(double prefillTps, double decodeTps) {
}
