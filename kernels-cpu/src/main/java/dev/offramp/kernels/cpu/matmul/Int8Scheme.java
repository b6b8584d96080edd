package dev.offramp.kernels.cpu.matmul;

/**
 * How {@link Int8Activations} quantizes: ggml's two rules for the activations of quantized matmuls.
 * Both keep the sum of every 32 quants, which the kernels use to fold a weight offset or minimum in.
 */
public enum Int8Scheme {
    /**
     * {@code q8_0}, for Q4_0: per 32 values {@code d = amax / 127}, {@code q = roundf(x / d)} (half away
     * from zero); {@code d} kept as a float, where ggml rounds it to f16.
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
