package dev.offramp.kernels.cpu.ops;

/**
 * The per-row elementwise and attention kernels of the CPU backend, on heap arrays with offsets.
 * Two implementations: {@link ScalarOps} (plain Java, the reference twin, used when the Vector API is
 * absent) and {@code VectorOps} (Vector API; only loaded when {@code jdk.incubator.vector} is present).
 *
 * <p>Every method computes one row (or one attention head of one token) from that row's inputs only,
 * in an order fixed by the row length, so results never depend on batch size or thread count.
 */
public interface CpuOps {

    /** Short description, e.g. {@code scalar} or {@code vector 512-bit}. */
    String describe();

    /** {@code out[i] = (x[i] * (1 / sqrt(mean(x^2) + eps))) * gamma[i]}; {@code out} may alias {@code x}. */
    void rmsnorm(float[] x, int xOff, float[] gamma, float eps, float[] out, int outOff, int n);

    /** {@code x[i] += y[i]}. */
    void add(float[] x, int xOff, float[] y, int yOff, int n);

    /** {@code g[i] = silu(g[i]) * u[i]}, with {@code silu(v) = v / (1 + exp(-v))}. */
    void siluMul(float[] g, int gOff, float[] u, int uOff, int n);

    /**
     * Rotates {@code heads} heads of {@code headDim} starting at {@code off}. {@code cos/sin} hold one
     * entry per rotated pair ({@code ropeDim / 2}); dims {@code >= ropeDim} of each head stay as they are.
     *
     * @param neox pairs {@code (i, i + ropeDim/2)} when true, {@code (2i, 2i+1)} when false
     */
    void rope(float[] x, int off, int heads, int headDim, int ropeDim, boolean neox, float[] cos, float[] sin);

    /**
     * One head of one query over an F32 cache: {@code scores[p] = (q . K[p]) * scale} for
     * {@code p < len}, softmax, then {@code out = sum_p scores[p] * V[p]}. Position {@code p}'s key
     * is {@code keys[p * kvDim + kvOff ..+ headDim]}, likewise values.
     */
    void attendF32(float[] q, int qOff, float[] keys, float[] values, int kvOff, int kvDim, int len,
                   int headDim, float scale, float[] scores, float[] out, int outOff);

    /**
     * Positions {@code [0, len)} of one head of an F16 cache ({@code headDim} halves at {@code kvOff} of
     * each {@code kvDim}-wide row) widened exactly to floats, packed {@code headDim} apart into
     * {@code dst}. A plain {@code Float.float16ToFloat} loop, which C2 turns into {@code vcvtph2ps} (one
     * instruction per vector) where the CPU has it; in-register bit manipulation costs a dozen vector
     * operations per load.
     */
    static void widenHead(short[] halves, int kvOff, int kvDim, int len, int headDim, float[] dst) {
        for (int p = 0; p < len; p++) {
            int from = p * kvDim + kvOff;
            int to = p * headDim;
            for (int d = 0; d < headDim; d++) {
                dst[to + d] = Float.float16ToFloat(halves[from + d]);
            }
        }
    }

    /** In-place softmax of {@code x[off .. off+n)}. */
    void softmax(float[] x, int off, int n);
}
