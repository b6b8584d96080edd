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
 * is added with scalar FMAs. In prefill, four tokens share each weight load ({@link #dot4}), or at 512
 * bits rows are widened a block at a time and swept by the quantized kernels' tiles ({@link #tiles});
 * both perform exactly the same operations per token as {@link #dot1}, so batch 1 and batch N agree.
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
     * The tiles of the quantized kernels' several-token path, or null where this kernel tiles on its own.
     * Only at 16 lanes: there {@link QuantDot#dot} performs {@link #dot1}'s operations in dot1's order
     * (chunk pairs into two accumulators, an odd last chunk into the first, the halving lane tree, the
     * scalar tail), so prefill through these tiles equals decode bit for bit; at 8 or 4 lanes QuantDot
     * adds the lanes first to last and dot1 by a tree.
     */
    QuantDot tiles() {
        return null;
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

    /** Per-thread landing place for a horizontal sum (one vector). */
    private final ThreadLocal<float[]> sumScratch = ThreadLocal.withInitial(() -> new float[128]);

    @Override
    public final void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                             float[] out, int outStride, int rowStart, int rowEnd) {
        float[] hs = sumScratch.get();
        long rowBytes = 4L * cols;
        if (QuantMatmulVector.floatRowBlockTiles(tiles(), WIDEN, w, rowBytes, cols, x, xStride, n, out, outStride,
                rowStart, rowEnd)) {
            return;
        }
        int r = rowStart;
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

    /** A row copied as it is: the tiles read floats from an array kept in L2. */
    private static final QuantMatmulVector.RowWidener WIDEN = (w, base, cols, dst, dstOffset, s) ->
            MemorySegment.copy(w, F32_LE, base, dst, dstOffset, cols);

    static final class W512 extends F32MatmulVector {
        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_512;
        }

        private final QuantDot tiles = new QuantDot(QuantSpecies.of(FloatVector.SPECIES_512));

        @Override
        QuantDot tiles() {
            return tiles;
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
