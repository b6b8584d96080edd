package dev.offramp.core.backend;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.model.RopeStyle;

/**
 * Everything a RoPE kernel needs besides positions: which pairs rotate ({@link RopeStyle}), how many
 * dimensions per head rotate, and one inverse frequency per rotated pair with any scaling already
 * folded in (positions are multiplied by {@code invFreq[i]} to get the angle of pair {@code i}).
 *
 * @param style   pair layout
 * @param ropeDim rotated dimensions per head (even)
 * @param invFreq {@code ropeDim / 2} inverse frequencies
 */
public record RopeTable(RopeStyle style, int ropeDim, float[] invFreq) {

    public RopeTable {
        if (invFreq.length * 2 != ropeDim) {
            throw new IllegalArgumentException("invFreq has " + invFreq.length + " entries for ropeDim " + ropeDim);
        }
        invFreq = invFreq.clone();
    }

    @Override
    public float[] invFreq() {
        return invFreq.clone();
    }

    /** The frequency of pair {@code i}, without a copy. */
    public float invFreq(int i) {
        return invFreq[i];
    }

    /**
     * Builds the table for a model. {@code freqFactors} is a GGUF {@code rope_freqs} tensor's values
     * (divisors per pair, as llama.cpp writes Llama 3 scaling) or {@code null}; when present it wins
     * over {@link ModelConfig#ropeScaling()}, as in llama.cpp.
     */
    public static RopeTable of(ModelConfig c, float[] freqFactors) {
        int pairs = c.ropeDim() / 2;
        float[] inv = new float[pairs];
        for (int i = 0; i < pairs; i++) {
            // ggml computes theta_scale = base^(-2/d) in float and raises it by repeated multiplication;
            // computing in double and rounding once differs by at most 1 ulp and is batch-independent.
            double base = Math.pow(c.ropeTheta(), -2.0 * i / c.ropeDim());
            if (freqFactors != null) {
                base /= freqFactors[i];
            } else if (c.ropeScaling() instanceof RopeScaling.Llama3 l3) {
                base = llama3(base, l3);
            } else if (c.ropeScaling() instanceof RopeScaling.Linear lin) {
                base /= lin.factor();
            }
            inv[i] = (float) base;
        }
        return new RopeTable(c.ropeStyle(), c.ropeDim(), inv);
    }

    private static double llama3(double freq, RopeScaling.Llama3 s) {
        double lowWavelen = s.originalContext() / s.lowFreqFactor();
        double highWavelen = s.originalContext() / s.highFreqFactor();
        double wavelen = 2 * Math.PI / freq;
        if (wavelen < highWavelen) {
            return freq;
        }
        if (wavelen > lowWavelen) {
            return freq / s.factor();
        }
        double smooth = (s.originalContext() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - smooth) * freq / s.factor() + smooth * freq;
    }
}
