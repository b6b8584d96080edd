package dev.offramp.core.testing;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;

import java.util.HashMap;
import java.util.Map;

/**
 * An independent float64 evaluation of a Llama-family decoder, written plainly from the math
 * (no Backend, no KV cache: every position recomputed), for checking the runtime's logits.
 * Weights are dequantized with the reference codecs on first use.
 */
public final class ReferenceLlama {

    private final ModelConfig c;
    private final Map<String, Tensor> tensors;
    private final Map<String, double[][]> cache = new HashMap<>();
    private final double[] invFreq;

    public ReferenceLlama(ModelConfig config, Map<String, Tensor> tensors) {
        this.c = config;
        this.tensors = tensors;
        int pairs = c.ropeDim() / 2;
        invFreq = new double[pairs];
        double[] factors = null;
        if (tensors.containsKey("rope_freqs.weight")) {
            factors = matrix("rope_freqs.weight")[0];
        }
        for (int i = 0; i < pairs; i++) {
            double f = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.ropeDim());
            if (factors != null) {
                f /= factors[i];
            } else if (c.ropeScaling() instanceof RopeScaling.Linear lin) {
                f /= lin.factor();
            } else if (c.ropeScaling() instanceof RopeScaling.Llama3 s) {
                double wl = 2 * Math.PI / f;
                double lowWl = s.originalContext() / (double) s.lowFreqFactor();
                double highWl = s.originalContext() / (double) s.highFreqFactor();
                if (wl > lowWl) {
                    f = f / s.factor();
                } else if (wl >= highWl) {
                    double sm = (s.originalContext() / wl - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                    f = (1 - sm) * f / s.factor() + sm * f;
                }
            }
            invFreq[i] = f;
        }
    }

    /** Logits at every position of {@code tokens} (positions 0..n-1). */
    public double[][] logits(int[] tokens) {
        int n = tokens.length;
        int d = c.dim();
        double[][] x = new double[n][];
        double[][] emb = matrix("token_embd.weight");
        for (int t = 0; t < n; t++) {
            x[t] = emb[tokens[t]].clone();
        }
        int hd = c.headDim();
        int group = c.heads() / c.kvHeads();
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] xn = rmsnorm(x[t], vec(p + "attn_norm.weight"));
                q[t] = addBias(mul(matrix(p + "attn_q.weight"), xn), p + "attn_q.bias");
                k[t] = addBias(mul(matrix(p + "attn_k.weight"), xn), p + "attn_k.bias");
                v[t] = addBias(mul(matrix(p + "attn_v.weight"), xn), p + "attn_v.bias");
                rope(q[t], c.heads(), t);
                rope(k[t], c.kvHeads(), t);
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[c.qDim()];
                for (int h = 0; h < c.heads(); h++) {
                    int kh = h / group;
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) {
                            dot += q[t][h * hd + i] * k[j][kh * hd + i];
                        }
                        s[j] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < hd; i++) {
                            att[h * hd + i] += s[j] / sum * v[j][kh * hd + i];
                        }
                    }
                }
                double[] o = addBias(mul(matrix(p + "attn_output.weight"), att), p + "attn_output.bias");
                for (int i = 0; i < d; i++) {
                    x[t][i] += o[i];
                }
                double[] xn = rmsnorm(x[t], vec(p + "ffn_norm.weight"));
                double[] g = addBias(mul(matrix(p + "ffn_gate.weight"), xn), p + "ffn_gate.bias");
                double[] u = addBias(mul(matrix(p + "ffn_up.weight"), xn), p + "ffn_up.bias");
                for (int i = 0; i < g.length; i++) {
                    g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                }
                double[] down = addBias(mul(matrix(p + "ffn_down.weight"), g), p + "ffn_down.bias");
                for (int i = 0; i < d; i++) {
                    x[t][i] += down[i];
                }
            }
        }
        double[][] head = tensors.containsKey("output.weight") ? matrix("output.weight") : emb;
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            out[t] = mul(head, rmsnorm(x[t], vec("output_norm.weight")));
        }
        return out;
    }

    private void rope(double[] x, int heads, int pos) {
        int hd = c.headDim();
        int half = c.ropeDim() / 2;
        for (int h = 0; h < heads; h++) {
            int base = h * hd;
            for (int i = 0; i < half; i++) {
                int a;
                int b;
                if (c.ropeStyle() == RopeStyle.NORMAL) {
                    a = base + 2 * i;
                    b = a + 1;
                } else {
                    a = base + i;
                    b = base + i + half;
                }
                double ang = pos * invFreq[i];
                double cos = Math.cos(ang);
                double sin = Math.sin(ang);
                double x0 = x[a];
                double x1 = x[b];
                x[a] = x0 * cos - x1 * sin;
                x[b] = x0 * sin + x1 * cos;
            }
        }
    }

    private double[] rmsnorm(double[] x, double[] w) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / x.length + c.normEps());
        double[] o = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            o[i] = x[i] * r * w[i];
        }
        return o;
    }

    private static double[] mul(double[][] w, double[] x) {
        double[] o = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double s = 0;
            double[] row = w[r];
            for (int i = 0; i < x.length; i++) {
                s += row[i] * x[i];
            }
            o[r] = s;
        }
        return o;
    }

    private double[] addBias(double[] x, String name) {
        if (!tensors.containsKey(name)) {
            return x;
        }
        double[] b = vec(name);
        for (int i = 0; i < x.length; i++) {
            x[i] += b[i];
        }
        return x;
    }

    private double[] vec(String name) {
        return matrix(name)[0];
    }

    private double[][] matrix(String name) {
        return cache.computeIfAbsent(name, nm -> {
            Tensor t = tensors.get(nm);
            if (t == null) {
                throw new IllegalArgumentException("reference: tensor " + nm + " missing");
            }
            int rows = (int) t.rows();
            int cols = (int) t.cols();
            double[][] m = new double[rows][cols];
            float[] buf = new float[cols];
            for (int r = 0; r < rows; r++) {
                Dequantize.row(t.type(), t.data(), r * t.rowBytes(), buf, 0, cols);
                for (int i = 0; i < cols; i++) {
                    m[r][i] = buf[i];
                }
            }
            return m;
        });
    }
}
