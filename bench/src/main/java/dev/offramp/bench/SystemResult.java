package dev.offramp.bench;

import java.util.List;

/**
 * One system's repetitions at one thread count, with what they mean against the machine.
 *
 * @param name          system name
 * @param build         the build measured
 * @param prefill       pp tokens/s of each repetition, in run order
 * @param decode        tg tokens/s of each repetition, in run order
 * @param gbps          achieved weight streaming while decoding: weight bytes per token x median tg, in GB/s
 * @param bandwidthFraction {@code gbps} over the read bandwidth measured in the same run
 * @param error         why the system failed (then the lists may be short or empty), or null
 */
public record SystemResult(String name, String build, List<Double> prefill, List<Double> decode, double gbps,
                           double bandwidthFraction, String error) {

    public SystemResult {
        prefill = List.copyOf(prefill);
        decode = List.copyOf(decode);
    }

    public double prefillMedian() {
        return Stats.median(prefill);
    }

    public double decodeMedian() {
        return Stats.median(decode);
    }

    public double decodeMin() {
        return Stats.min(decode);
    }

    public double prefillMin() {
        return Stats.min(prefill);
    }

    public boolean ok() {
        return error == null && !decode.isEmpty();
    }
}
