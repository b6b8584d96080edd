package dev.offramp.core.testing;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.KvCache;
import dev.offramp.core.backend.RopeTable;
import dev.offramp.core.backend.Weight;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;

/**
 * A deliberately plain, single-threaded float32 {@link Backend} for runtime-core's own tests, so
 * model and session code can be tested without kernels-cpu. Weights are dequantized row by row on
 * every use (slow, tiny models only). Every op's per-row arithmetic is independent of the batch,
 * so it is batch-invariant by construction.
 */
public final class ScalarTestBackend implements Backend {

    record W(Tensor source) implements Weight {
    }

    record A(int rows, int cols, float[] data) implements Activations {
    }

    record Kv(int layers, int capacity, int kvDim, DType dtype, float[][] k, float[][] v) implements KvCache {
        @Override
        public long byteSize() {
            return 2L * layers * capacity * kvDim * (dtype == DType.F16 ? 2 : 4);
        }
    }

    @Override
    public String name() {
        return "scalar-test";
    }

    @Override
    public String describe() {
        return "scalar test backend";
    }

    @Override
    public int threads() {
        return 1;
    }

    @Override
    public Weight prepare(Tensor tensor) {
        return new W(tensor);
    }

    private final java.util.concurrent.atomic.AtomicLong allocatedFloats = new java.util.concurrent.atomic.AtomicLong();

    /** Floats allocated so far for activations and KV caches (to test that memory does not scale with the prompt). */
    public long allocatedFloats() {
        return allocatedFloats.get();
    }

    @Override
    public Activations allocate(int rows, int cols) {
        allocatedFloats.addAndGet((long) rows * cols);
        return new A(rows, cols, new float[rows * cols]);
    }

    @Override
    public KvCache allocateKvCache(int layers, int capacity, int kvDim, DType dtype) {
        allocatedFloats.addAndGet(2L * layers * capacity * kvDim);
        return new Kv(layers, capacity, kvDim, dtype, new float[layers][capacity * kvDim], new float[layers][capacity * kvDim]);
    }

    private static float[] row(Weight w, int r) {
        Tensor t = w.source();
        int cols = (int) t.cols();
        float[] out = new float[cols];
        Dequantize.row(t.type(), t.data(), r * t.rowBytes(), out, 0, cols);
        return out;
    }

    private static float[] d(Activations a) {
        return ((A) a).data;
    }

    @Override
    public void embed(Weight table, int[] tokens, int n, Activations out) {
        for (int t = 0; t < n; t++) {
            System.arraycopy(row(table, tokens[t]), 0, d(out), t * out.cols(), out.cols());
        }
    }

    @Override
    public void matmul(Weight w, Activations x, int n, Activations out) {
        int rows = (int) w.rows();
        int cols = (int) w.cols();
        for (int r = 0; r < rows; r++) {
            float[] wr = row(w, r);
            for (int t = 0; t < n; t++) {
                float s = 0;
                for (int c = 0; c < cols; c++) {
                    s += wr[c] * d(x)[t * x.cols() + c];
                }
                d(out)[t * out.cols() + r] = s;
            }
        }
    }

    @Override
    public void addBias(Activations x, Weight bias, int n) {
        float[] b = row(bias, 0);
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < b.length; c++) {
                d(x)[t * x.cols() + c] += b[c];
            }
        }
    }

    @Override
    public void add(Activations x, Activations y, int n) {
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < x.cols(); c++) {
                d(x)[t * x.cols() + c] += d(y)[t * y.cols() + c];
            }
        }
    }

    @Override
    public void rmsnorm(Activations x, Weight gamma, float eps, int n, Activations out) {
        float[] g = row(gamma, 0);
        int cols = g.length;
        for (int t = 0; t < n; t++) {
            float ss = 0;
            for (int c = 0; c < cols; c++) {
                float v = d(x)[t * x.cols() + c];
                ss += v * v;
            }
            float scale = (float) (1.0 / Math.sqrt(ss / cols + eps));
            for (int c = 0; c < cols; c++) {
                d(out)[t * out.cols() + c] = d(x)[t * x.cols() + c] * scale * g[c];
            }
        }
    }

    @Override
    public void rope(Activations x, int n, int heads, int headDim, int[] positions, RopeTable rope) {
        int half = rope.ropeDim() / 2;
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                int base = t * x.cols() + h * headDim;
                for (int i = 0; i < half; i++) {
                    int a = rope.style() == RopeStyle.NORMAL ? base + 2 * i : base + i;
                    int b = rope.style() == RopeStyle.NORMAL ? a + 1 : base + i + half;
                    double ang = positions[t] * (double) rope.invFreq(i);
                    float cos = (float) Math.cos(ang);
                    float sin = (float) Math.sin(ang);
                    float x0 = d(x)[a];
                    float x1 = d(x)[b];
                    d(x)[a] = x0 * cos - x1 * sin;
                    d(x)[b] = x0 * sin + x1 * cos;
                }
            }
        }
    }

    @Override
    public void kvWrite(KvCache cache, int layer, Activations k, Activations v, int n, int[] positions) {
        Kv kv = (Kv) cache;
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < kv.kvDim; c++) {
                float kk = d(k)[t * k.cols() + c];
                float vv = d(v)[t * v.cols() + c];
                if (kv.dtype == DType.F16) {
                    kk = Float.float16ToFloat(Float.floatToFloat16(kk));
                    vv = Float.float16ToFloat(Float.floatToFloat16(vv));
                }
                kv.k[layer][positions[t] * kv.kvDim + c] = kk;
                kv.v[layer][positions[t] * kv.kvDim + c] = vv;
            }
        }
    }

    @Override
    public void attention(Activations q, KvCache cache, int layer, int n, int[] positions,
                          int heads, int kvHeads, int headDim, Activations out) {
        Kv kv = (Kv) cache;
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int t = 0; t < n; t++) {
            int len = positions[t] + 1;
            float[] s = new float[len];
            for (int h = 0; h < heads; h++) {
                int qo = t * q.cols() + h * headDim;
                int ko = (h / group) * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) {
                    float dot = 0;
                    for (int i = 0; i < headDim; i++) {
                        dot += d(q)[qo + i] * kv.k[layer][j * kv.kvDim + ko + i];
                    }
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                float sum = 0;
                for (int j = 0; j < len; j++) {
                    s[j] = (float) Math.exp(s[j] - max);
                    sum += s[j];
                }
                int oo = t * out.cols() + h * headDim;
                for (int i = 0; i < headDim; i++) {
                    float acc = 0;
                    for (int j = 0; j < len; j++) {
                        acc += s[j] * kv.v[layer][j * kv.kvDim + ko + i];
                    }
                    d(out)[oo + i] = acc / sum;
                }
            }
        }
    }

    @Override
    public void siluMul(Activations gate, Activations up, int n) {
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < gate.cols(); c++) {
                float g = d(gate)[t * gate.cols() + c];
                d(gate)[t * gate.cols() + c] = (float) (g / (1 + Math.exp(-g))) * d(up)[t * up.cols() + c];
            }
        }
    }

    @Override
    public void copyRows(Activations src, int srcRow, Activations dst, int dstRow, int count) {
        System.arraycopy(d(src), srcRow * src.cols(), d(dst), dstRow * dst.cols(), count * src.cols());
    }

    @Override
    public void read(Activations a, int row, float[] dst, int dstOffset) {
        System.arraycopy(d(a), row * a.cols(), dst, dstOffset, a.cols());
    }

    @Override
    public void write(Activations a, int row, float[] src, int srcOffset) {
        System.arraycopy(src, srcOffset, d(a), row * a.cols(), a.cols());
    }

    @Override
    public void close() {
    }
}
