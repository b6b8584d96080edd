package dev.offramp.core.tensor.quant;

import java.util.Arrays;

/**
 * The scale searches behind ggml's k-quant reference quantizers (after {@code make_qkx2_quants} and
 * {@code make_qx_quants} in ggml-quants.c): try a handful of candidate inverse scales around the
 * naive max/nmax one, refit scale (and minimum) by weighted least squares for each candidate's
 * integer levels, and keep the candidate with the smallest weighted squared error.
 */
final class KQuantSearch {

    /** ggml's GROUP_MAX_EPS: a group whose largest magnitude is below this is all zero. */
    static final float GROUP_MAX_EPS = 1e-15f;

    private KQuantSearch() {
    }

    /** ggml's {@code nearest_int}: round half to even (its float "magic number" trick does exactly this). */
    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    /**
     * Asymmetric search: levels {@code L[i] in [0, nmax]} with {@code x ~ scale * L - theMin}.
     * Returns the scale; writes the (non-negative) minimum to {@code minOut[0]}.
     */
    static float scaleMin(int n, int nmax, float[] x, int xo, float[] w, byte[] levels, int lo, float[] minOut,
                          byte[] aux, float rmin, float rdelta, int nstep) {
        return scaleMin(n, nmax, x, xo, w, levels, lo, minOut, aux, rmin, rdelta, nstep, false);
    }

    /**
     * As above; {@code mad} scores candidates by weighted absolute instead of squared error (ggml's
     * {@code use_mad}, which Q2_K uses: with only 4 levels, squared error lets outliers drag the scale).
     */
    static float scaleMin(int n, int nmax, float[] x, int xo, float[] w, byte[] levels, int lo, float[] minOut,
                          byte[] aux, float rmin, float rdelta, int nstep, boolean mad) {
        float min = x[xo];
        float max = x[xo];
        float sumW = w[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float xi = x[xo + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            sumW += w[i];
            sumX += w[i] * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                levels[lo + i] = 0;
            }
            minOut[0] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
            levels[lo + i] = (byte) l;
            float diff = scale * l + min - x[xo + i];
            bestError += w[i] * (mad ? Math.abs(diff) : diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
                aux[i] = (byte) l;
                sumL += w[i] * l;
                sumL2 += w[i] * l * l;
                sumXL += w[i] * l * x[xo + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float err = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[xo + i];
                    err += w[i] * (mad ? Math.abs(diff) : diff * diff);
                }
                if (err < bestError) {
                    System.arraycopy(aux, 0, levels, lo, n);
                    bestError = err;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        minOut[0] = -min;
        return scale;
    }

    /** The value of largest magnitude in {@code x[xo, xo + n)}, the first on ties (how ggml's symmetric searches pick it). */
    private static float maxByMagnitude(float[] x, int xo, int n) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        return max;
    }

    /**
     * Symmetric search (rmse type 1: weights x^2): levels {@code L[i] in [0, 2*nmax)} store
     * {@code l + nmax} with {@code x ~ scale * l}. Returns the (signed) scale.
     */
    static float symmetric(int n, int nmax, float[] x, int xo, byte[] levels, int lo) {
        float max = maxByMagnitude(x, xo, n);
        if (Math.abs(max) < GROUP_MAX_EPS) {
            Arrays.fill(levels, lo, lo + n, (byte) 0);
            return 0f;
        }
        float iscale = -nmax / max;
        float sumLX = 0;
        float sumL2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xo + i];
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * xi)));
            levels[lo + i] = (byte) (l + nmax);
            float w = xi * xi;
            sumLX += w * xi * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0f;
        float best = scale * sumLX;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumLX = 0;
            sumL2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * xi)));
                float w = xi * xi;
                sumLX += w * xi * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
                for (int i = 0; i < n; i++) {
                    int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
                    levels[lo + i] = (byte) (l + nmax);
                }
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    /**
     * Q3_K's symmetric search (ggml's {@code make_q3_quants} with rmse): levels {@code l in [-nmax, nmax)}
     * start from the naive max/nmax rounding, then up to 5 sweeps move single values to the level that
     * the least-squares scale of the others suggests, keeping a move only when it raises
     * {@code sumlx^2 / suml2} (weights x^2). Stores {@code l + nmax}; returns the least-squares scale.
     */
    static float q3(int n, int nmax, float[] x, int xo, byte[] levels, int lo) {
        float max = maxByMagnitude(x, xo, n);
        if (Math.abs(max) < GROUP_MAX_EPS) {
            Arrays.fill(levels, lo, lo + n, (byte) 0);
            return 0f;
        }
        float iscale = -nmax / max;
        int[] l = new int[n];
        float sumLX = 0;
        float sumL2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xo + i];
            l[i] = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * xi)));
            float w = xi * xi;
            sumLX += w * xi * l[i];
            sumL2 += w * l[i] * l[i];
        }
        for (int pass = 0; pass < 5; pass++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                float w = xi * xi;
                float slx = sumLX - w * xi * l[i];
                if (slx > 0) {
                    float sl2 = sumL2 - w * l[i] * l[i];
                    int nl = Math.max(-nmax, Math.min(nmax - 1, nearestInt(xi * sl2 / slx)));
                    if (nl != l[i]) {
                        slx += w * xi * nl;
                        sl2 += w * nl * nl;
                        if (sl2 > 0 && slx * slx * sumL2 > sumLX * sumLX * sl2) {
                            l[i] = nl;
                            sumLX = slx;
                            sumL2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            levels[lo + i] = (byte) (l[i] + nmax);
        }
        return sumLX / sumL2;
    }
}
