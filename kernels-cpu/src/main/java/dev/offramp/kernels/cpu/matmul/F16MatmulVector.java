package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.kernels.cpu.simd.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * F16 matmul with the Vector API. Weights are widened to float lanes by integer bit manipulation ({@link Lanes#halfToFloat}); the Vector API has no F16 lanes.
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
public abstract sealed class F16MatmulVector implements MatmulKernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    private static final MatmulKernel SCALAR = new F16MatmulScalar();

    /** The kernel for {@code species}' width. */
    public static F16MatmulVector of(VectorSpecies<Float> species) {
        return of(species, false);
    }

    /**
     * @param finite true when the caller has checked that the weights hold no infinity or NaN
     *               ({@link #allFinite}): widening then skips the exponent-31 fix-up, three times
     *               fewer vector operations per weight; results are the same bits for such weights
     */
    public static F16MatmulVector of(VectorSpecies<Float> species, boolean finite) {
        return switch (species.vectorBitSize()) {
            case 512 -> new W512(finite);
            case 256 -> new W256(finite);
            case 128 -> new W128(finite);
            default -> throw new IllegalArgumentException("no F16 vector kernel for " + species);
        };
    }

    abstract VectorSpecies<Float> species();

    /** Shorts of half the float width: one 16-bit weight per float lane. */
    abstract VectorSpecies<Short> halfSpecies();

    abstract VectorSpecies<Integer> intSpecies();

    private final boolean finite;

    F16MatmulVector(boolean finite) {
        this.finite = finite;
    }

    /**
     * Whether no value of {@code w} is an infinity or NaN (exponent bits all ones). Read 4 halves per
     * long: {@code (v & 0x7C00) + 0x0400} carries into bit 15 of a half exactly when its exponent is
     * 31, and cannot carry into the next half.
     */
    public static boolean allFinite(MemorySegment w) {
        long n = w.byteSize();
        long i = 0;
        long hit = 0;
        for (; i + 8 <= n; i += 8) {
            long v = w.get(I64_LE, i);
            hit |= ((v & 0x7C007C007C007C00L) + 0x0400040004000400L) & 0x8000800080008000L;
        }
        for (; i + 2 <= n; i += 2) {
            hit |= ((w.get(I16_LE, i) & 0x7C00) + 0x0400) & 0x8000;
        }
        return hit == 0;
    }

    private FloatVector load(MemorySegment w, long offset) {
        ShortVector h = ShortVector.fromMemorySegment(halfSpecies(), w, offset, LE);
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, intSpecies(), 0);
        return finite ? Lanes.finiteHalfToFloat(i) : Lanes.halfToFloat(i);
    }

    @Override
    public DType type() {
        return DType.F16;
    }

    @Override
    public MatmulKernel scalar() {
        return SCALAR;
    }

    @Override
    public String toString() {
        return "F16MatmulVector[" + species().vectorBitSize() + "-bit" + (finite ? ", finite" : "") + "]";
    }

    /** Per-thread landing place for horizontal sums (see {@link Lanes#sum(FloatVector, float[])}). */
    private final ThreadLocal<float[]> sumScratch = ThreadLocal.withInitial(() -> new float[64]);

    @Override
    public final void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                             float[] out, int outStride, int rowStart, int rowEnd) {
        float[] hs = sumScratch.get();
        long rowBytes = 2L * cols;
        for (int r = rowStart; r < rowEnd; r++) {
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
            FloatVector w0 = load(w, base + 2L * c);
            FloatVector w1 = load(w, base + 2L * (c + l));
            a0 = w0.fma(FloatVector.fromArray(s, x, xo + c), a0);
            a1 = w1.fma(FloatVector.fromArray(s, x, xo + c + l), a1);
        }
        if (c + l <= cols) {
            a0 = load(w, base + 2L * c).fma(FloatVector.fromArray(s, x, xo + c), a0);
            c += l;
        }
        float sum = Lanes.sum(a0.add(a1), hs);
        for (; c < cols; c++) {
            sum = Math.fma(Float.float16ToFloat(w.get(I16_LE, base + 2L * c)), x[xo + c], sum);
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
            FloatVector w0 = load(w, base + 2L * c);
            FloatVector w1 = load(w, base + 2L * (c + l));
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
            FloatVector w0 = load(w, base + 2L * c);
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
            float wv = Float.float16ToFloat(w.get(I16_LE, base + 2L * c));
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

    static final class W512 extends F16MatmulVector {
        W512(boolean finite) {
            super(finite);
        }

        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_512;
        }

        @Override
        VectorSpecies<Short> halfSpecies() {
            return ShortVector.SPECIES_256;
        }

        @Override
        VectorSpecies<Integer> intSpecies() {
            return IntVector.SPECIES_512;
        }
    }

    static final class W256 extends F16MatmulVector {
        W256(boolean finite) {
            super(finite);
        }

        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_256;
        }

        @Override
        VectorSpecies<Short> halfSpecies() {
            return ShortVector.SPECIES_128;
        }

        @Override
        VectorSpecies<Integer> intSpecies() {
            return IntVector.SPECIES_256;
        }
    }

    static final class W128 extends F16MatmulVector {
        W128(boolean finite) {
            super(finite);
        }

        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_128;
        }

        @Override
        VectorSpecies<Short> halfSpecies() {
            return ShortVector.SPECIES_64;
        }

        @Override
        VectorSpecies<Integer> intSpecies() {
            return IntVector.SPECIES_128;
        }
    }
}
