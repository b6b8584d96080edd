package dev.offramp.core.backend;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;

/**
 * The compute service every model op goes through; model code never touches SIMD types or device
 * memory. Implemented by {@code kernels-cpu} (Vector API) and {@code kernels-cuda}.
 *
 * <p>Every op works on the first {@code n} rows (tokens) of its {@link Activations}; row {@code t} of
 * each input produces row {@code t} of each output. Contract shared by all implementations:
 * <ul>
 *   <li><b>Batch invariance.</b> A row's result is bit-identical whatever {@code n} is and however
 *   many threads run it (same accumulation order per output element). Prefill, batched verify and
 *   one-token decode then agree exactly, which makes "lossless" testable.</li>
 *   <li><b>Thread safety.</b> Ops on distinct activations and caches may be called concurrently from
 *   several sessions sharing one backend.</li>
 *   <li><b>No allocation per op</b> on the hot path.</li>
 * </ul>
 */
public interface Backend extends AutoCloseable {

    /** Short name, e.g. {@code cpu} or {@code cuda}. */
    String name();

    /** Human-readable description (species, threads, device). */
    String describe();

    /** Worker threads used by matrix ops. */
    int threads();

    /** Makes a weight usable by this backend's kernels (a view on CPU, an upload on GPU). Called once per tensor. */
    Weight prepare(Tensor tensor);

    /**
     * Bytes that KV caches and activations may still take (for a CPU backend: the Java heap not in
     * use). Callers check a request against it before allocating, so an impossible context is refused
     * with a message instead of an {@link OutOfMemoryError} that could hit any thread of the process.
     * Garbage not yet collected counts as in use, so this errs on the small side.
     */
    default long availableMemory() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /** A zeroed F32 activation matrix {@code [rows, cols]}. */
    Activations allocate(int rows, int cols);

    /** A KV cache for {@code layers} layers of {@code capacity} positions, {@code kvDim} wide, in F32 or F16. */
    KvCache allocateKvCache(int layers, int capacity, int kvDim, DType dtype);

    /** {@code out[t] = table[tokens[t]]} for {@code t < n}, dequantized to F32. */
    void embed(Weight table, int[] tokens, int n, Activations out);

    /** {@code out[t][r] = sum_c w[r][c] * x[t][c]} for {@code t < n}, {@code r < w.rows()}. */
    void matmul(Weight w, Activations x, int n, Activations out);

    /**
     * {@link #matmul(Weight, Activations, int, Activations)} of each {@code weights[i]} into {@code outs[i]},
     * all of the same input: the projections a block reads from one normalized activation (q/k/v,
     * gate/up). A backend may run them as one pass (the CPU backend splits their rows across its threads
     * together); the results must equal one call per weight bit for bit. The default makes those calls.
     * <pre>{@code
     * backend.matmul(new Weight[]{wq, wk, wv}, xb, n, new Activations[]{q, k, v}); // arrays made once, reused
     * }</pre>
     */
    default void matmul(Weight[] weights, Activations x, int n, Activations[] outs) {
        if (weights.length != outs.length) {
            throw new IllegalArgumentException("matmul: " + weights.length + " weights but " + outs.length + " outputs");
        }
        for (int i = 0; i < weights.length; i++) {
            matmul(weights[i], x, n, outs[i]);
        }
    }

    /** {@code x[t][c] += bias[c]}. */
    void addBias(Activations x, Weight bias, int n);

    /** {@code x[t] += y[t]} (residual connection). */
    void add(Activations x, Activations y, int n);

    /** {@code out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * gamma}; {@code out} may be {@code x}. */
    void rmsnorm(Activations x, Weight gamma, float eps, int n, Activations out);

    /** Rotates each of {@code heads} heads of {@code headDim} in row {@code t} by position {@code positions[t]}, in place. */
    void rope(Activations x, int n, int heads, int headDim, int[] positions, RopeTable rope);

    /** Stores {@code k[t]} and {@code v[t]} at position {@code positions[t]} of {@code layer}. */
    void kvWrite(KvCache cache, int layer, Activations k, Activations v, int n, int[] positions);

    /**
     * Causal grouped-query attention: query row {@code t} ({@code heads * headDim} wide) attends to
     * positions {@code 0..positions[t]} of {@code layer} (which must already be written), query head
     * {@code h} using KV head {@code h / (heads / kvHeads)}, scores scaled by {@code 1/sqrt(headDim)}.
     * Writes {@code heads * headDim} values per row to {@code out}.
     */
    void attention(Activations q, KvCache cache, int layer, int n, int[] positions,
                   int heads, int kvHeads, int headDim, Activations out);

    /** {@code gate[t][c] = silu(gate[t][c]) * up[t][c]} (SwiGLU). */
    void siluMul(Activations gate, Activations up, int n);

    /** Copies {@code count} rows from {@code src} (from {@code srcRow}) to {@code dst} (from {@code dstRow}). */
    void copyRows(Activations src, int srcRow, Activations dst, int dstRow, int count);

    /** Copies row {@code row} to {@code dst[dstOffset ..]} on the host. */
    void read(Activations a, int row, float[] dst, int dstOffset);

    /** Writes host values into row {@code row}. */
    void write(Activations a, int row, float[] src, int srcOffset);

    /** Stops worker threads and frees device memory. Using the backend afterwards throws {@link IllegalStateException}. */
    @Override
    void close();
}
