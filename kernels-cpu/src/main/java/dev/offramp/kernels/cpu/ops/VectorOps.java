package dev.offramp.kernels.cpu.ops;

import dev.offramp.kernels.cpu.simd.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API implementation of {@link CpuOps}. Only loaded when {@code jdk.incubator.vector} is present.
 *
 * <p>Ops built from exact operations only (add, SiLU-mul, RoPE, the softmax's exp, the attention's
 * weighted sum of values, the RMSNorm scaling) give bit-identical results to {@link ScalarOps};
 * reductions (dot products, sums of squares, softmax sums) use vector accumulators summed in the
 * fixed tree of {@link Lanes#sum}, so they differ from the sequential scalar twin by rounding only.
 * As in the matmul kernels, each width is a subclass returning a {@code static final} species so
 * that C2 can intrinsify the loops.
 */
public abstract sealed class VectorOps implements CpuOps {
    private final ScalarOps scalar = new ScalarOps();
    /** Per-thread landing place for horizontal sums ({@link Lanes#sum(FloatVector, float[])}): one store instead of 16 lane extractions. */
    private final ThreadLocal<float[]> sumScratch = ThreadLocal.withInitial(() -> new float[64]);
    /** Per-thread buffer for SiLU's exp(-g), grown to the widest row seen. */
    private final ThreadLocal<float[]> expScratch = ThreadLocal.withInitial(() -> new float[256]);

    /** The ops for {@code species}' width. */
    public static VectorOps of(VectorSpecies<Float> species) {
        return switch (species.vectorBitSize()) {
            case 512 -> new W512();
            case 256 -> new W256();
            case 128 -> new W128();
            case 64 -> new W64();
            default -> new Any(species);
        };
    }

    abstract VectorSpecies<Float> species();

    @Override
    public String describe() {
        return "vector " + species().vectorBitSize() + "-bit";
    }

    @Override
    public void rmsnorm(float[] x, int xOff, float[] gamma, float eps, float[] out, int outOff, int n) {
        VectorSpecies<Float> s = species();
        int l = s.length();
        FloatVector a0 = FloatVector.zero(s);
        FloatVector a1 = FloatVector.zero(s);
        int i = 0;
        for (int end = n - 2 * l; i <= end; i += 2 * l) {
            FloatVector v0 = FloatVector.fromArray(s, x, xOff + i);
            FloatVector v1 = FloatVector.fromArray(s, x, xOff + i + l);
            a0 = v0.fma(v0, a0);
            a1 = v1.fma(v1, a1);
        }
        if (i + l <= n) {
            FloatVector v0 = FloatVector.fromArray(s, x, xOff + i);
            a0 = v0.fma(v0, a0);
            i += l;
        }
        float ss = Lanes.sum(a0.add(a1), sumScratch.get());
        for (; i < n; i++) {
            float v = x[xOff + i];
            ss = Math.fma(v, v, ss);
        }
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        int j = 0;
        for (int bound = s.loopBound(n); j < bound; j += l) {
            FloatVector.fromArray(s, x, xOff + j).mul(scale).mul(FloatVector.fromArray(s, gamma, j))
                    .intoArray(out, outOff + j);
        }
        for (; j < n; j++) {
            out[outOff + j] = (x[xOff + j] * scale) * gamma[j];
        }
    }

    @Override
    public void add(float[] x, int xOff, float[] y, int yOff, int n) {
        VectorSpecies<Float> s = species();
        int i = 0;
        for (int bound = s.loopBound(n); i < bound; i += s.length()) {
            FloatVector.fromArray(s, x, xOff + i).add(FloatVector.fromArray(s, y, yOff + i)).intoArray(x, xOff + i);
        }
        for (; i < n; i++) {
            x[xOff + i] += y[yOff + i];
        }
    }

    @Override
    public void siluMul(float[] g, int gOff, float[] u, int uOff, int n) {
        VectorSpecies<Float> s = species();
        float[] e = expScratch(n);
        int i = 0;
        int bound = s.loopBound(n);
        for (; i < bound; i += s.length()) {
            FloatVector.fromArray(s, g, gOff + i).neg().intoArray(e, i);
        }
        for (; i < n; i++) {
            e[i] = -g[gOff + i];
        }
        expInPlace(e, 0, n);
        i = 0;
        for (; i < bound; i += s.length()) {
            FloatVector v = FloatVector.fromArray(s, g, gOff + i);
            v.div(FloatVector.fromArray(s, e, i).add(1f)).mul(FloatVector.fromArray(s, u, uOff + i)).intoArray(g, gOff + i);
        }
        for (; i < n; i++) {
            g[gOff + i] = g[gOff + i] / (1f + e[i]) * u[uOff + i];
        }
    }

    private float[] expScratch(int n) {
        float[] e = expScratch.get();
        if (e.length < n) {
            e = new float[Math.max(n, 2 * e.length)];
            expScratch.set(e);
        }
        return e;
    }

    /**
     * {@code a[i] = Exp.exp(a[i])}: the same operations in the same order, lane-wise. Kept as one loop
     * over arrays (rather than a helper taking and returning vectors) so that no vector ever crosses
     * a call C2 might not inline, which would box it on every iteration.
     */
    private void expInPlace(float[] a, int off, int n) {
        VectorSpecies<Float> s = species();
        FloatVector negLn2Hi = FloatVector.broadcast(s, -Exp.LN2_HI);
        FloatVector negLn2Lo = FloatVector.broadcast(s, -Exp.LN2_LO);
        FloatVector c7 = FloatVector.broadcast(s, Exp.C7);
        FloatVector c6 = FloatVector.broadcast(s, Exp.C6);
        FloatVector c5 = FloatVector.broadcast(s, Exp.C5);
        FloatVector c4 = FloatVector.broadcast(s, Exp.C4);
        FloatVector c3 = FloatVector.broadcast(s, Exp.C3);
        FloatVector c2 = FloatVector.broadcast(s, Exp.C2);
        FloatVector one = FloatVector.broadcast(s, 1f);
        int i = 0;
        for (int bound = s.loopBound(n); i < bound; i += s.length()) {
            FloatVector x = FloatVector.fromArray(s, a, off + i).max(Exp.MIN).min(Exp.MAX);
            FloatVector k = x.mul(Exp.LOG2E).add(Exp.ROUND).sub(Exp.ROUND);
            FloatVector r = k.fma(negLn2Hi, x);
            r = k.fma(negLn2Lo, r);
            FloatVector p = c7.fma(r, c6);
            p = p.fma(r, c5);
            p = p.fma(r, c4);
            p = p.fma(r, c3);
            p = p.fma(r, c2);
            p = p.fma(r, one);
            p = p.fma(r, one);
            IntVector ki = (IntVector) k.convert(VectorOperators.F2I, 0);
            p.reinterpretAsInts().add(ki.lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats().intoArray(a, off + i);
        }
        for (; i < n; i++) {
            a[off + i] = Exp.exp(a[off + i]);
        }
    }

    @Override
    public void rope(float[] x, int off, int heads, int headDim, int ropeDim, boolean neox, float[] cos, float[] sin) {
        if (!neox) {
            // Interleaved pairs would need a lane swap per vector; RoPE is O(dim) per token, so the
            // scalar loop costs nothing measurable.
            scalar.rope(x, off, heads, headDim, ropeDim, false, cos, sin);
            return;
        }
        VectorSpecies<Float> s = species();
        int half = ropeDim / 2;
        int bound = s.loopBound(half);
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            int i = 0;
            for (; i < bound; i += s.length()) {
                FloatVector x0 = FloatVector.fromArray(s, x, base + i);
                FloatVector x1 = FloatVector.fromArray(s, x, base + i + half);
                FloatVector c = FloatVector.fromArray(s, cos, i);
                FloatVector sn = FloatVector.fromArray(s, sin, i);
                x0.mul(c).sub(x1.mul(sn)).intoArray(x, base + i);
                x1.mul(c).add(x0.mul(sn)).intoArray(x, base + i + half);
            }
            for (; i < half; i++) {
                float x0 = x[base + i];
                float x1 = x[base + i + half];
                x[base + i] = x0 * cos[i] - x1 * sin[i];
                x[base + i + half] = x1 * cos[i] + x0 * sin[i];
            }
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        VectorSpecies<Float> s = species();
        int l = s.length();
        int bound = s.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (bound > 0) {
            FloatVector m = FloatVector.broadcast(s, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += l) {
                m = m.max(FloatVector.fromArray(s, x, off + i));
            }
            max = m.reduceLanes(VectorOperators.MAX); // max is exact and order-free
        }
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        i = 0;
        for (; i < bound; i += l) {
            FloatVector.fromArray(s, x, off + i).sub(max).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] -= max;
        }
        expInPlace(x, off, n);
        FloatVector acc = FloatVector.zero(s);
        i = 0;
        for (; i < bound; i += l) {
            acc = acc.add(FloatVector.fromArray(s, x, off + i));
        }
        float sum = Lanes.sum(acc, sumScratch.get());
        for (; i < n; i++) {
            sum += x[off + i];
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += l) {
            FloatVector.fromArray(s, x, off + i).mul(inv).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    @Override
    public void attendF32(float[] q, int qOff, float[] keys, float[] values, int kvOff, int kvDim, int len,
                          int headDim, float scale, float[] scores, float[] out, int outOff) {
        VectorSpecies<Float> s = species();
        int l = s.length();
        int bound = s.loopBound(headDim);
        float[] hs = sumScratch.get();
        int p = 0;
        // Four positions per pass share each q load and overlap their FMA chains; every position
        // still sees exactly the operations of the one-position loop below.
        for (; p + 4 <= len; p += 4) {
            int k0 = p * kvDim + kvOff, k1 = k0 + kvDim, k2 = k1 + kvDim, k3 = k2 + kvDim;
            FloatVector a0 = FloatVector.zero(s), a1 = a0, a2 = a0, a3 = a0;
            int d = 0;
            for (; d < bound; d += l) {
                FloatVector qv = FloatVector.fromArray(s, q, qOff + d);
                a0 = qv.fma(FloatVector.fromArray(s, keys, k0 + d), a0);
                a1 = qv.fma(FloatVector.fromArray(s, keys, k1 + d), a1);
                a2 = qv.fma(FloatVector.fromArray(s, keys, k2 + d), a2);
                a3 = qv.fma(FloatVector.fromArray(s, keys, k3 + d), a3);
            }
            float d0 = 0f;
            float d1 = 0f;
            float d2 = 0f;
            float d3 = 0f;
            if (bound > 0) {
                // the four lane trees side by side (Lanes.trees: the same additions as Lanes.sum each)
                a0.intoArray(hs, 0);
                a1.intoArray(hs, l);
                a2.intoArray(hs, 2 * l);
                a3.intoArray(hs, 3 * l);
                Lanes.trees(hs, l, 4);
                d0 = hs[0];
                d1 = hs[l];
                d2 = hs[2 * l];
                d3 = hs[3 * l];
            }
            for (; d < headDim; d++) {
                float qd = q[qOff + d];
                d0 = Math.fma(qd, keys[k0 + d], d0);
                d1 = Math.fma(qd, keys[k1 + d], d1);
                d2 = Math.fma(qd, keys[k2 + d], d2);
                d3 = Math.fma(qd, keys[k3 + d], d3);
            }
            scores[p] = d0 * scale;
            scores[p + 1] = d1 * scale;
            scores[p + 2] = d2 * scale;
            scores[p + 3] = d3 * scale;
        }
        for (; p < len; p++) {
            int k = p * kvDim + kvOff;
            FloatVector acc = FloatVector.zero(s);
            int d = 0;
            for (; d < bound; d += l) {
                acc = FloatVector.fromArray(s, q, qOff + d).fma(FloatVector.fromArray(s, keys, k + d), acc);
            }
            float dot = bound > 0 ? Lanes.sum(acc, hs) : 0f;
            for (; d < headDim; d++) {
                dot = Math.fma(q[qOff + d], keys[k + d], dot);
            }
            scores[p] = dot * scale;
        }
        softmax(scores, 0, len);
        // out = sum over positions of score x value, each lane an FMA chain over the positions in order.
        // Four vectors of out (a 64-wide head at 512 bits) stay in registers across all positions
        // instead of a load and a store per position and vector; the chains and their order are those
        // of the one-vector loop after it, so the bits do not depend on the blocking.
        int d = 0;
        for (; d + 4 * l <= bound; d += 4 * l) {
            FloatVector o0 = FloatVector.zero(s), o1 = o0, o2 = o0, o3 = o0;
            for (p = 0; p < len; p++) {
                int v = p * kvDim + kvOff + d;
                FloatVector wv = FloatVector.broadcast(s, scores[p]);
                o0 = FloatVector.fromArray(s, values, v).fma(wv, o0);
                o1 = FloatVector.fromArray(s, values, v + l).fma(wv, o1);
                o2 = FloatVector.fromArray(s, values, v + 2 * l).fma(wv, o2);
                o3 = FloatVector.fromArray(s, values, v + 3 * l).fma(wv, o3);
            }
            o0.intoArray(out, outOff + d);
            o1.intoArray(out, outOff + d + l);
            o2.intoArray(out, outOff + d + 2 * l);
            o3.intoArray(out, outOff + d + 3 * l);
        }
        for (; d < bound; d += l) {
            FloatVector o = FloatVector.zero(s);
            for (p = 0; p < len; p++) {
                o = FloatVector.fromArray(s, values, p * kvDim + kvOff + d).fma(FloatVector.broadcast(s, scores[p]), o);
            }
            o.intoArray(out, outOff + d);
        }
        for (; d < headDim; d++) {
            float o = 0f;
            for (p = 0; p < len; p++) {
                o = Math.fma(scores[p], values[p * kvDim + kvOff + d], o);
            }
            out[outOff + d] = o;
        }
    }

    static final class W512 extends VectorOps {
        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_512;
        }
    }

    static final class W256 extends VectorOps {
        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_256;
        }
    }

    static final class W128 extends VectorOps {
        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_128;
        }
    }

    static final class W64 extends VectorOps {
        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_64;
        }
    }

    /** Any other width (wide SVE); correct, but C2 cannot specialize it. */
    static final class Any extends VectorOps {
        private final VectorSpecies<Float> species;

        Any(VectorSpecies<Float> species) {
            this.species = species;
        }

        @Override
        VectorSpecies<Float> species() {
            return species;
        }
    }
}
