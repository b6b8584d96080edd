package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

/**
 * Activations quantized to int8 by one of ggml's rules ({@link Int8Scheme}: {@code q8_0} per 32 values,
 * {@code q8_K} per 256), for kernels whose weights meet the activations in integer arithmetic
 * ({@link MatmulKernel#int8Activations()}). Made once per matmul call by the caller
 * and then read by every thread; the buffers grow once and are reused, so a decode step allocates
 * nothing.
 *
 * <p>{@code q8_0} follows ggml's x86 quantizer (multiplier {@code 127 / amax}, round half to even, scale
 * rounded to f16), so that the kernels' greedy text stays llama.cpp's. Differences from ggml, for
 * accuracy: a scale outside f16's normal range stays a float (ggml's overflows or loses precision);
 * every 32 quants keep their sum (ggml's {@code q8_1} and {@code q8_K} keep such sums; kernels fold a
 * weight offset or minimum in with it); a non-finite value makes its block's scale NaN or infinite, so
 * it reaches the outputs as in float arithmetic instead of vanishing in the rounding (ggml's
 * {@code q8_K} skips NaNs).
 *
 * <pre>{@code
 * Int8Activations a = new Int8Activations();
 * a.quantize(x, cols, 1, cols);          // one token of cols values (a multiple of 32)
 * kernel.matmul(w, cols, a, 1, out, rows, 0, rows);
 * }</pre>
 */
public final class Int8Activations {
    /** Values per quant sum ({@link #sums()}), and the granularity of the row length. */
    public static final int BLOCK = 32;

    private final Int8Scheme scheme;
    private short[] q = new short[0];
    /** {@link #q} as floats, made only where {@link #hasFloatQuants()}. */
    private float[] qf = new float[0];
    private float[] d = new float[0];
    private int[] sum = new int[0];
    private int n;
    private int cols;

    /** Activations by ggml's {@code q8_0} rule. */
    public Int8Activations() {
        this(Int8Scheme.Q8_0);
    }

    public Int8Activations(Int8Scheme scheme) {
        this.scheme = scheme;
    }

    public Int8Scheme scheme() {
        return scheme;
    }

    /**
     * Quantizes {@code n} rows of {@code cols} values (a multiple of the scheme's block), row t at
     * {@code x[t * xStride]}.
     */
    public void quantize(float[] x, int xStride, int n, int cols) {
        reset(x, xStride, n, cols);
        int nb = cols / BLOCK;
        for (int t = 0; t < n; t++) {
            if (scheme == Int8Scheme.Q8_0) {
                for (int b = 0; b < nb; b++) {
                    quantizeBlock(x, t * xStride + BLOCK * b, t * cols + BLOCK * b, t * nb + b);
                }
                if (hasFloatQuants()) {
                    for (int i = t * cols; i < (t + 1) * cols; i++) {
                        qf[i] = q[i];
                    }
                }
            } else {
                for (int b = 0; b < cols / 256; b++) {
                    quantizeBlockK(x, t * xStride + 256 * b, t * cols + 256 * b, t * (cols / 256) + b, t * nb + 8 * b);
                }
            }
        }
    }

    /** {@code q8_K}: one scale per 256 values (at {@code block}), quant sums per 32 from {@code sums}. */
    private void quantizeBlockK(float[] x, int from, int to, int block, int sums) {
        float amax = 0f;
        float max = 0f;
        boolean nan = false;
        for (int i = 0; i < 256; i++) {
            float v = x[from + i];
            float ax = Math.abs(v);
            nan |= ax != ax;
            if (ax > amax) {
                amax = ax;
                max = v;
            }
        }
        float iscale = -127f / max;
        if (nan || Float.isInfinite(iscale)) {
            zeroBlockK(q, to, sum, sums, d, block, nan);
            return;
        }
        for (int j = 0; j < 8; j++) {
            int s = 0;
            for (int i = 32 * j; i < 32 * j + 32; i++) {
                int v = Math.min(127, nearestInt(iscale * x[from + i]));
                q[to + i] = (short) v;
                s += v;
            }
            sum[sums + j] = s;
        }
        d[block] = 1f / iscale;
    }

    /**
     * A {@code q8_K} block with no usable scale: zero quants and sums. That is an all-zero block (the
     * scale {@code -127 / max} is infinite), one so small that the scale overflows (|max| below
     * 127 / Float.MAX_VALUE; its values are zero to float precision), or one holding a NaN, which ggml
     * skips (a NaN never compares greater) and which here gets a NaN scale to carry it to the output.
     */
    static void zeroBlockK(short[] q, int to, int[] sum, int sums, float[] d, int block, boolean nan) {
        java.util.Arrays.fill(q, to, to + 256, (short) 0);
        java.util.Arrays.fill(sum, sums, sums + 8, 0);
        d[block] = nan ? Float.NaN : 0f;
    }

    /** ggml's {@code nearest_int}: round half to even through the float adder, for |v| < 2^22. */
    static int nearestInt(float v) {
        return (Float.floatToRawIntBits(v + 12582912f) & 0x007FFFFF) - 0x00400000;
    }

    /** Checks a {@link #quantize} call and sizes the buffers for it; the quantizers then fill them. */
    void reset(float[] x, int xStride, int n, int cols) {
        if (cols <= 0 || cols % scheme.block() != 0) {
            throw new IllegalArgumentException("int8 activations: row length " + cols + " is not a positive multiple of "
                    + scheme.block() + " (" + scheme + ")");
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
        if (hasFloatQuants() && qf.length < values) {
            qf = new float[values];
        }
    }

    private void quantizeBlock(float[] x, int from, int to, int block) {
        float amax = 0f;
        for (int i = 0; i < BLOCK; i++) {
            // Math.max keeps a NaN, so the block's scale becomes NaN.
            amax = Math.max(amax, Math.abs(x[from + i]));
        }
        float inv = multiplier(amax);
        int s = 0;
        for (int i = 0; i < BLOCK; i++) {
            int v = nearestInt(x[from + i] * inv);
            q[to + i] = (short) v;
            s += v;
        }
        d[block] = scale(amax);
        sum[block] = s;
    }

    /**
     * The scale of a {@code q8_0} block: {@code amax / 127} rounded to f16, as ggml stores it (the quants
     * are made with the unrounded multiplier). Kept as ggml has it so that the Q8_0 and Q4_0 kernels'
     * greedy text stays llama.cpp's further: ~10% more of stories-ee12-Q8_0's than with the float scale.
     * The f16 loses 2^-11 of the scale, well under the int8 rounding of the quants themselves. Outside
     * f16's normal range ggml's scale overflows to infinity (activations past ~8.3e6) or loses precision
     * (below ~7.8e-3); there the float scale stays.
     */
    static float scale(float amax) {
        float d = amax / 127f;
        return d >= 0x1p-14f && d <= 65504f ? Float.float16ToFloat(Float.floatToFloat16(d)) : d;
    }

    /**
     * ggml's x86 {@code q8_0} multiplier {@code 127 / amax}: 0 for a zero block and for one so small
     * (below ~3.7e-37) that it overflows (its quants would overflow instead of rounding, and its values are
     * zero to float precision). A NaN stays NaN, so the block's scale carries it to the output.
     */
    static float multiplier(float amax) {
        float inv = amax != 0f ? 127f / amax : 0f;
        return inv == Float.POSITIVE_INFINITY ? 0f : inv;
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

    /**
     * Whether {@link #floatQuants()} holds the quants as floats: for {@code q8_0} and four tokens or more,
     * where the Q8_0 kernel's several-token path sums a block's products in float FMAs (exact: each
     * partial sum is an integer below 2^24). A decode step (one token) makes and allocates no copy.
     */
    boolean hasFloatQuants() {
        return scheme == Int8Scheme.Q8_0 && n >= 4;
    }

    /** The quants as floats, laid out as {@link #quants()}; filled only where {@link #hasFloatQuants()}. */
    float[] floatQuants() {
        return qf;
    }

    /** Scales, row t's block b at {@code t * cols() / block + b} ({@link Int8Scheme#block()}). */
    float[] scales() {
        return d;
    }

    /** Sum of every 32 quants, row t's values 32b.. at {@code t * cols() / 32 + b}. */
    int[] sums() {
        return sum;
    }

    /**
     * Checks a {@code type} kernel's call against these activations (the messages are built only on
     * failure: this runs on every matmul).
     */
    void check(DType type, Int8Scheme want, int cols, int n) {
        if (scheme != want) {
            throw new IllegalArgumentException(type + " matmul: activations quantized by " + scheme + ", the kernel reads " + want);
        }
        if (cols != this.cols) {
            throw new IllegalArgumentException(type + " matmul: activations have " + this.cols + " columns, the weight " + cols);
        }
        if (n < 0 || n > this.n) {
            throw new IllegalArgumentException(type + " matmul: " + n + " tokens asked, " + this.n + " quantized");
        }
    }
}
