package dev.offramp.kernels.cpu.matmul;

/**
 * How {@link Int8Activations} quantizes: ggml's two rules for the activations of quantized matmuls.
 * Both keep the sum of every 32 quants, which the kernels use to fold a weight offset or minimum in.
 */
public enum Int8Scheme {
    /**
     * {@code q8_0}, for Q4_0 and Q8_0: per 32 values, as ggml's x86 {@code quantize_row_q8_0}:
     * {@code q = round_half_even(x * (127 / amax))}, {@code d = f16(amax / 127)} (kept as the float it
     * rounds to; outside f16's normal range, where ggml's overflows or loses precision, the float).
     */
    Q8_0(32),
    /**
     * {@code q8_K}, for the K-quants: per 256 values, {@code iscale = -127 / max} with {@code max} the
     * first value of largest magnitude, {@code q = min(127, nearest_int(iscale * x))} (half to even),
     * {@code d = 1 / iscale}.
     */
    Q8_K(256);

    private final int block;

    Int8Scheme(int block) {
        this.block = block;
    }

    /** Values per scale. */
    public int block() {
        return block;
    }
}
