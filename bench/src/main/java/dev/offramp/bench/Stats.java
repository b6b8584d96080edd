package dev.offramp.bench;

import java.util.Arrays;
import java.util.List;

/** Order statistics of repeated measurements (medians resist the noise of a shared machine; means do not). */
final class Stats {
    private Stats() {
    }

    static double median(List<Double> xs) {
        if (xs.isEmpty()) {
            return Double.NaN;
        }
        double[] a = xs.stream().mapToDouble(Double::doubleValue).filter(x -> !Double.isNaN(x)).toArray();
        if (a.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(a);
        int m = a.length / 2;
        return a.length % 2 == 1 ? a[m] : (a[m - 1] + a[m]) / 2;
    }

    static double min(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    static double max(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }
}
