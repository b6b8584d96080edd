package dev.offramp.kernels.cpu.ops;

/**
 * Plain-Java reference twin of every CPU op: sequential loops, no Vector API. Serves when
 * {@code jdk.incubator.vector} is absent, and is what the differential tests compare the vector
 * kernels with.
 */
public final class ScalarOps implements CpuOps {

    @Override
    public String describe() {
        return "scalar";
    }

    @Override
    public void rmsnorm(float[] x, int xOff, float[] gamma, float eps, float[] out, int outOff, int n) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            ss = Math.fma(v, v, ss);
        }
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = (x[xOff + i] * scale) * gamma[i];
        }
    }

    @Override
    public void add(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            x[xOff + i] += y[yOff + i];
        }
    }

    @Override
    public void siluMul(float[] g, int gOff, float[] u, int uOff, int n) {
        for (int i = 0; i < n; i++) {
            g[gOff + i] = Exp.silu(g[gOff + i]) * u[uOff + i];
        }
    }

    @Override
    public void rope(float[] x, int off, int heads, int headDim, int ropeDim, boolean neox, float[] cos, float[] sin) {
        int half = ropeDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int i0 = neox ? base + i : base + 2 * i;
                int i1 = neox ? base + i + half : base + 2 * i + 1;
                float x0 = x[i0];
                float x1 = x[i1];
                float c = cos[i];
                float s = sin[i];
                // mul then add (no fma), the same rounding steps as the vector twin.
                x[i0] = x0 * c - x1 * s;
                x[i1] = x1 * c + x0 * s;
            }
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = Exp.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    @Override
    public void attendF32(float[] q, int qOff, float[] keys, float[] values, int kvOff, int kvDim, int len,
                          int headDim, float scale, float[] scores, float[] out, int outOff) {
        for (int p = 0; p < len; p++) {
            int k = p * kvDim + kvOff;
            float s = 0f;
            for (int d = 0; d < headDim; d++) {
                s = Math.fma(q[qOff + d], keys[k + d], s);
            }
            scores[p] = s * scale;
        }
        softmax(scores, 0, len);
        java.util.Arrays.fill(out, outOff, outOff + headDim, 0f);
        for (int p = 0; p < len; p++) {
            int v = p * kvDim + kvOff;
            float w = scores[p];
            for (int d = 0; d < headDim; d++) {
                out[outOff + d] = Math.fma(w, values[v + d], out[outOff + d]);
            }
        }
    }
}
