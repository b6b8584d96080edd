package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.kernels.cpu.simd.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * F32 matmul with the Vector API.
 *
 * <p>Order of one output {@code (t, r)}, whatever the batch or row split: lanes accumulate with FMA
 * in two accumulators (even and odd vector blocks), a final odd block goes to the first, the two are
 * added, lanes are summed in {@link Lanes#sum}'s fixed tree, and the tail past the last full vector
 * is added with scalar FMAs. Four tokens share each weight load ({@link #dot4}) in prefill; that path
 * performs exactly the same operations per token as {@link #dot1}, so batch 1 and batch N agree.
 *
 * <p>Why one subclass per width: Vector API code is compiled to SIMD instructions only when C2 sees
 * the species as a constant. A species in an instance field is not one, so each width is a subclass
 * whose {@link #species()} returns a {@code static final}; a process that uses a single width (the
 * normal case) sees a monomorphic call and gets fully intrinsified loops.
 */
public abstract sealed class F32MatmulVector implements MatmulKernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final MatmulKernel SCALAR = new F32MatmulScalar();

    /** The kernel for {@code species}' width. */
    public static F32MatmulVector of(VectorSpecies<Float> species) {
        return switch (species.vectorBitSize()) {
            case 512 -> new W512();
            case 256 -> new W256();
            case 128 -> new W128();
            case 64 -> new W64();
            default -> new Any(species);
        };
    }

    abstract VectorSpecies<Float> species();

    /**
     * Whether prefill runs the 4-token x 2-row tile ({@link #dot4x2}): it keeps 16 accumulators live,
     * which fits 32 vector registers (AVX-512) and would spill with 16.
     */
    boolean pairRows() {
        return false;
    }

    @Override
    public DType type() {
        return DType.F32;
    }

    @Override
    public MatmulKernel scalar() {
        return SCALAR;
    }

    @Override
    public String toString() {
        return "F32MatmulVector[" + species().vectorBitSize() + "-bit]";
    }

    /** Per-thread landing place for horizontal sums: one vector, or the prefill tile's eight ({@link Lanes#trees}). */
    private final ThreadLocal<float[]> sumScratch = ThreadLocal.withInitial(() -> new float[128]);

    @Override
    public final void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                             float[] out, int outStride, int rowStart, int rowEnd) {
        float[] hs = sumScratch.get();
        long rowBytes = 4L * cols;
        int r = rowStart;
        if (n >= 4 && pairRows()) {
            // Prefill: 4 tokens x 2 rows per pass, so each x vector loaded serves two rows.
            for (; r + 2 <= rowEnd; r += 2) {
                long base = r * rowBytes;
                int t = 0;
                for (; t + 4 <= n; t += 4) {
                    dot4x2(w, base, rowBytes, cols, x, t * xStride, xStride, out, t * outStride + r, outStride, hs);
                }
                for (; t < n; t++) {
                    out[t * outStride + r] = dot1(w, base, cols, x, t * xStride, hs);
                    out[t * outStride + r + 1] = dot1(w, base + rowBytes, cols, x, t * xStride, hs);
                }
            }
        }
        for (; r < rowEnd; r++) {
            long base = r * rowBytes;
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                dot4(w, base, cols, x, t * xStride, xStride, out, t * outStride + r, outStride, hs);
            }
            for (; t < n; t++) {
                out[t * outStride + r] = dot1(w, base, cols, x, t * xStride, hs);
            }
        }
    }

    private float dot1(MemorySegment w, long base, int cols, float[] x, int xo, float[] hs) {
        VectorSpecies<Float> s = species();
        int l = s.length();
        FloatVector a0 = FloatVector.zero(s);
        FloatVector a1 = FloatVector.zero(s);
        int c = 0;
        for (int end = cols - 2 * l; c <= end; c += 2 * l) {
            FloatVector w0 = FloatVector.fromMemorySegment(s, w, base + 4L * c, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(s, w, base + 4L * (c + l), LE);
            a0 = w0.fma(FloatVector.fromArray(s, x, xo + c), a0);
            a1 = w1.fma(FloatVector.fromArray(s, x, xo + c + l), a1);
        }
        if (c + l <= cols) {
            a0 = FloatVector.fromMemorySegment(s, w, base + 4L * c, LE).fma(FloatVector.fromArray(s, x, xo + c), a0);
            c += l;
        }
        float sum = Lanes.sum(a0.add(a1), hs);
        for (; c < cols; c++) {
            sum = Math.fma(w.get(F32_LE, base + 4L * c), x[xo + c], sum);
        }
        return sum;
    }

    private void dot4(MemorySegment w, long base, int cols, float[] x, int xo, int xs,
                      float[] out, int oo, int os, float[] hs) {
        VectorSpecies<Float> s = species();
        int l = s.length();
        FloatVector a0 = FloatVector.zero(s), a1 = FloatVector.zero(s);
        FloatVector b0 = FloatVector.zero(s), b1 = FloatVector.zero(s);
        FloatVector c0 = FloatVector.zero(s), c1 = FloatVector.zero(s);
        FloatVector d0 = FloatVector.zero(s), d1 = FloatVector.zero(s);
        int xa = xo, xb = xo + xs, xc = xo + 2 * xs, xd = xo + 3 * xs;
        int c = 0;
        for (int end = cols - 2 * l; c <= end; c += 2 * l) {
            FloatVector w0 = FloatVector.fromMemorySegment(s, w, base + 4L * c, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(s, w, base + 4L * (c + l), LE);
            a0 = w0.fma(FloatVector.fromArray(s, x, xa + c), a0);
            a1 = w1.fma(FloatVector.fromArray(s, x, xa + c + l), a1);
            b0 = w0.fma(FloatVector.fromArray(s, x, xb + c), b0);
            b1 = w1.fma(FloatVector.fromArray(s, x, xb + c + l), b1);
            c0 = w0.fma(FloatVector.fromArray(s, x, xc + c), c0);
            c1 = w1.fma(FloatVector.fromArray(s, x, xc + c + l), c1);
            d0 = w0.fma(FloatVector.fromArray(s, x, xd + c), d0);
            d1 = w1.fma(FloatVector.fromArray(s, x, xd + c + l), d1);
        }
        if (c + l <= cols) {
            FloatVector w0 = FloatVector.fromMemorySegment(s, w, base + 4L * c, LE);
            a0 = w0.fma(FloatVector.fromArray(s, x, xa + c), a0);
            b0 = w0.fma(FloatVector.fromArray(s, x, xb + c), b0);
            c0 = w0.fma(FloatVector.fromArray(s, x, xc + c), c0);
            d0 = w0.fma(FloatVector.fromArray(s, x, xd + c), d0);
            c += l;
        }
        float sa = Lanes.sum(a0.add(a1), hs);
        float sb = Lanes.sum(b0.add(b1), hs);
        float sc = Lanes.sum(c0.add(c1), hs);
        float sd = Lanes.sum(d0.add(d1), hs);
        for (; c < cols; c++) {
            float wv = w.get(F32_LE, base + 4L * c);
            sa = Math.fma(wv, x[xa + c], sa);
            sb = Math.fma(wv, x[xb + c], sb);
            sc = Math.fma(wv, x[xc + c], sc);
            sd = Math.fma(wv, x[xd + c], sd);
        }
        out[oo] = sa;
        out[oo + os] = sb;
        out[oo + 2 * os] = sc;
        out[oo + 3 * os] = sd;
    }

    /**
     * {@link #dot4} for rows {@code base} and {@code base + rowBytes} at once: each (token, row) output
     * gets exactly {@link #dot1}'s operations in dot1's order (even/odd block accumulators, odd final
     * block into the first, the same lane tree, the same scalar tail), so tiles never change bits.
     */
    private void dot4x2(MemorySegment w, long base, long rowBytes, int cols, float[] x, int xo, int xs,
                        float[] out, int oo, int os, float[] hs) {
        VectorSpecies<Float> s = species();
        int l = s.length();
        long bq = base + rowBytes;
        FloatVector a0 = FloatVector.zero(s), a1 = FloatVector.zero(s), e0 = FloatVector.zero(s), e1 = FloatVector.zero(s);
        FloatVector b0 = FloatVector.zero(s), b1 = FloatVector.zero(s), f0 = FloatVector.zero(s), f1 = FloatVector.zero(s);
        FloatVector c0 = FloatVector.zero(s), c1 = FloatVector.zero(s), g0 = FloatVector.zero(s), g1 = FloatVector.zero(s);
        FloatVector d0 = FloatVector.zero(s), d1 = FloatVector.zero(s), h0 = FloatVector.zero(s), h1 = FloatVector.zero(s);
        int xa = xo, xb = xo + xs, xc = xo + 2 * xs, xd = xo + 3 * xs;
        int c = 0;
        for (int end = cols - 2 * l; c <= end; c += 2 * l) {
            FloatVector p0 = FloatVector.fromMemorySegment(s, w, base + 4L * c, LE);
            FloatVector p1 = FloatVector.fromMemorySegment(s, w, base + 4L * (c + l), LE);
            FloatVector q0 = FloatVector.fromMemorySegment(s, w, bq + 4L * c, LE);
            FloatVector q1 = FloatVector.fromMemorySegment(s, w, bq + 4L * (c + l), LE);
            FloatVector x0 = FloatVector.fromArray(s, x, xa + c), x1 = FloatVector.fromArray(s, x, xa + c + l);
            a0 = p0.fma(x0, a0);
            a1 = p1.fma(x1, a1);
            e0 = q0.fma(x0, e0);
            e1 = q1.fma(x1, e1);
            x0 = FloatVector.fromArray(s, x, xb + c);
            x1 = FloatVector.fromArray(s, x, xb + c + l);
            b0 = p0.fma(x0, b0);
            b1 = p1.fma(x1, b1);
            f0 = q0.fma(x0, f0);
            f1 = q1.fma(x1, f1);
            x0 = FloatVector.fromArray(s, x, xc + c);
            x1 = FloatVector.fromArray(s, x, xc + c + l);
            c0 = p0.fma(x0, c0);
            c1 = p1.fma(x1, c1);
            g0 = q0.fma(x0, g0);
            g1 = q1.fma(x1, g1);
            x0 = FloatVector.fromArray(s, x, xd + c);
            x1 = FloatVector.fromArray(s, x, xd + c + l);
            d0 = p0.fma(x0, d0);
            d1 = p1.fma(x1, d1);
            h0 = q0.fma(x0, h0);
            h1 = q1.fma(x1, h1);
        }
        if (c + l <= cols) {
            FloatVector p0 = FloatVector.fromMemorySegment(s, w, base + 4L * c, LE);
            FloatVector q0 = FloatVector.fromMemorySegment(s, w, bq + 4L * c, LE);
            FloatVector x0 = FloatVector.fromArray(s, x, xa + c);
            a0 = p0.fma(x0, a0);
            e0 = q0.fma(x0, e0);
            x0 = FloatVector.fromArray(s, x, xb + c);
            b0 = p0.fma(x0, b0);
            f0 = q0.fma(x0, f0);
            x0 = FloatVector.fromArray(s, x, xc + c);
            c0 = p0.fma(x0, c0);
            g0 = q0.fma(x0, g0);
            x0 = FloatVector.fromArray(s, x, xd + c);
            d0 = p0.fma(x0, d0);
            h0 = q0.fma(x0, h0);
            c += l;
        }
        // the eight lane trees side by side (Lanes.trees: Lanes.sum's tree, fewer ops at 16 lanes)
        a0.add(a1).intoArray(hs, 0);
        b0.add(b1).intoArray(hs, l);
        c0.add(c1).intoArray(hs, 2 * l);
        d0.add(d1).intoArray(hs, 3 * l);
        e0.add(e1).intoArray(hs, 4 * l);
        f0.add(f1).intoArray(hs, 5 * l);
        g0.add(g1).intoArray(hs, 6 * l);
        h0.add(h1).intoArray(hs, 7 * l);
        Lanes.trees(hs, l, 8);
        float sa = hs[0], sb = hs[l], sc = hs[2 * l], sd = hs[3 * l];
        float ta = hs[4 * l], tb = hs[5 * l], tc = hs[6 * l], td = hs[7 * l];
        for (; c < cols; c++) {
            float wv = w.get(F32_LE, base + 4L * c);
            float wq = w.get(F32_LE, bq + 4L * c);
            sa = Math.fma(wv, x[xa + c], sa);
            sb = Math.fma(wv, x[xb + c], sb);
            sc = Math.fma(wv, x[xc + c], sc);
            sd = Math.fma(wv, x[xd + c], sd);
            ta = Math.fma(wq, x[xa + c], ta);
            tb = Math.fma(wq, x[xb + c], tb);
            tc = Math.fma(wq, x[xc + c], tc);
            td = Math.fma(wq, x[xd + c], td);
        }
        out[oo] = sa;
        out[oo + os] = sb;
        out[oo + 2 * os] = sc;
        out[oo + 3 * os] = sd;
        out[oo + 1] = ta;
        out[oo + os + 1] = tb;
        out[oo + 2 * os + 1] = tc;
        out[oo + 3 * os + 1] = td;
    }

    static final class W512 extends F32MatmulVector {
        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_512;
        }

        @Override
        boolean pairRows() {
            return true;
        }
    }

    static final class W256 extends F32MatmulVector {
        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_256;
        }
    }

    static final class W128 extends F32MatmulVector {
        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_128;
        }
    }

    static final class W64 extends F32MatmulVector {
        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_64;
        }
    }

    /** Any other width (wide SVE); correct, but C2 cannot specialize it. */
    static final class Any extends F32MatmulVector {
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
