package dev.offramp.kernels.cpu.matmul;

/**
 * Activations quantized per 32 values to int8 by ggml's {@code q8_0} rule ({@code d = amax / 127},
 * {@code q = roundf(x / d)}, half away from zero), for kernels whose weights meet the activations in
 * integer arithmetic ({@link MatmulKernel#int8Activations()}). Made once per matmul call by the caller
 * and then read by every thread; the buffers grow once and are reused, so a decode step allocates
 * nothing.
 *
 * <p>Two differences from ggml's {@code block_q8_0}, both for accuracy: the scale {@code d} stays a
 * float (ggml rounds it to f16, which flushes the scales of tiny activations), and each block also
 * keeps the sum of its quants (ggml's {@code q8_1} has it; kernels fold a weight offset in with it).
 * A non-finite value makes its block's scale NaN or infinite, so it reaches the outputs as in float
 * arithmetic instead of vanishing in the rounding.
 *
 * <pre>{@code
 * Int8Activations a = new Int8Activations();
 * a.quantize(x, cols, 1, cols);          // one token of cols values (a multiple of 32)
 * kernel.matmul(w, cols, a, 1, out, rows, 0, rows);
 * }</pre>
 */
public final class Int8Activations {
    /** Values per block. */
    public static final int BLOCK = 32;

    private short[] q = new short[0];
    private float[] d = new float[0];
    private int[] sum = new int[0];
    private int n;
    private int cols;

    /** Quantizes {@code n} rows of {@code cols} values, row t at {@code x[t * xStride]}. */
    public void quantize(float[] x, int xStride, int n, int cols) {
        reset(x, xStride, n, cols);
        int nb = cols / BLOCK;
        for (int t = 0; t < n; t++) {
            for (int b = 0; b < nb; b++) {
                quantizeBlock(x, t * xStride + BLOCK * b, t * cols + BLOCK * b, t * nb + b);
            }
        }
    }

    /** Checks a {@link #quantize} call and sizes the buffers for it; the quantizers then fill them. */
    void reset(float[] x, int xStride, int n, int cols) {
        if (cols <= 0 || cols % BLOCK != 0) {
            throw new IllegalArgumentException("int8 activations: row length " + cols + " is not a positive multiple of " + BLOCK);
        }
        if (n < 0 || n > 0 && ((n > 1 && xStride < cols) || (long) (n - 1) * xStride + cols > x.length)) {
            throw new IndexOutOfBoundsException("int8 activations: " + x.length + " floats cannot hold " + n
                    + " rows of " + cols + " with stride " + xStride);
        }
        int values = Math.multiplyExact(n, cols);
        if (q.length < values) {
            q = new short[values];
            d = new float[values / BLOCK];
            sum = new int[values / BLOCK];
        }
        this.n = n;
        this.cols = cols;
    }

    private void quantizeBlock(float[] x, int from, int to, int block) {
        float amax = 0f;
        for (int i = 0; i < BLOCK; i++) {
            // Math.max keeps a NaN, so the block's scale becomes NaN.
            amax = Math.max(amax, Math.abs(x[from + i]));
        }
        float scale = amax / 127f;
        float inv = scale != 0f ? 1f / scale : 0f;
        int s = 0;
        for (int i = 0; i < BLOCK; i++) {
            int v = roundHalfAway(x[from + i] * inv);
            q[to + i] = (short) v;
            s += v;
        }
        d[block] = scale;
        sum[block] = s;
    }

    /** C's {@code roundf} for |v| <= 127 (and 0 for NaN): the integer part is exact, so is the fraction. */
    static int roundHalfAway(float v) {
        int r = (int) v;
        float frac = v - r;
        if (frac >= 0.5f) {
            r++;
        } else if (frac <= -0.5f) {
            r--;
        }
        return r;
    }

    /** Rows quantized by the last {@link #quantize}. */
    public int rows() {
        return n;
    }

    /** Values per row of the last {@link #quantize}. */
    public int cols() {
        return cols;
    }

    /** Quants, row t's value c at {@code t * cols() + c}; in [-127, 127]. */
    short[] quants() {
        return q;
    }

    /** Block scales, row t's block b at {@code t * cols() / 32 + b}. */
    float[] scales() {
        return d;
    }

    /** Sum of each block's quants (same index as {@link #scales()}). */
    int[] sums() {
        return sum;
    }

    /** Checks a kernel call against these activations; {@code what} names the kernel. */
    void check(String what, int cols, int n) {
        if (cols != this.cols) {
            throw new IllegalArgumentException(what + ": activations have " + this.cols + " columns, the weight " + cols);
        }
        if (n < 0 || n > this.n) {
            throw new IllegalArgumentException(what + ": " + n + " tokens asked, " + this.n + " quantized");
        }
    }
}
