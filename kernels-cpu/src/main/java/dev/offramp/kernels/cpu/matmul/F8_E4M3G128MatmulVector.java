package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector FP8 E4M3FN matmul over {@link DType#F8_E4M3_G128} rows. Each group of 128 accumulates into
 * two vectors (chunk c into accumulator c % 2), summed and folded into the row total with one vector
 * FMA by the group's scale, so lanes are reduced once per row, not per group. The order of operations depends only on the row, never on the batch.
 *
 * <p>Decode without denormals: the scalar twin's {@code bits * 2^120} feeds float subnormals to a
 * multiply for the E4M3 subnormal codes (exponent 0, 1 in 16 random bytes), and x86 takes a microcode
 * assist for each (measured on Zen 5: the kernel ran at half speed on random bytes). Here the
 * magnitude bits go under a float exponent field of {@code 128 + e}, a pure OR since {@code e < 16},
 * which is the value times 2^8 for every normal code; the 2^8 is taken out of the group scale (exact).
 * For {@code e = 0} that float is {@code 2 + m/4} where the value (times 2^8) is {@code m/2}, so those
 * lanes, and only those (they are the lanes below 4), get {@code 2f - 4} by a masked FMA. The sign bit
 * is put back last. NaN codes (0x7F, 0xFF) decode to +-480 exactly as the scalar twin's arithmetic does.
 */
public final class F8_E4M3G128MatmulVector implements MatmulKernel {

    private static final int GROUP = F8_E4M3G128MatmulScalar.GROUP;
    /** The decoded floats are the values times 2^8; scales are multiplied by this instead. */
    private static final float UNSCALE = 0x1p-8f;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;

    private final QuantSpecies qs;
    private final Ints ints;
    private final boolean wide;
    private final F8_E4M3G128MatmulScalar scalar = new F8_E4M3G128MatmulScalar();
    private final ThreadLocal<float[]> lanes = ThreadLocal.withInitial(() -> new float[64]);

    public F8_E4M3G128MatmulVector(VectorSpecies<Float> species) {
        this.qs = QuantSpecies.of(species);
        this.ints = switch (species.vectorBitSize()) {
            case 512 -> new Ints512();
            case 256 -> new Ints256();
            case 128 -> new Ints128();
            default -> throw new IllegalArgumentException("no FP8 vector kernel at " + species.vectorBitSize() + " bits");
        };
        if (GROUP % qs.bytes().length() != 0) {
            throw new IllegalArgumentException("byte species of " + qs.bytes().length() + " lanes does not divide " + GROUP);
        }
        this.wide = species.vectorBitSize() == 512;
    }

    @Override
    public DType type() {
        return DType.F8_E4M3_G128;
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n, float[] out, int outStride,
                       int rowStart, int rowEnd) {
        long rb = F8_E4M3G128MatmulScalar.rowBytes(cols);
        F8_E4M3MatmulScalar.check(w, rb, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        float[] tmp = lanes.get();
        int groups = cols / GROUP;
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rb;
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = wide ? rowDot512(w, base, groups, x, t * xStride, tmp)
                        : rowDot(w, base, groups, x, t * xStride, tmp);
            }
        }
    }

    /**
     * The 16-lane loop on its own, so C2 inlines everything in it (a method holding every width's loop
     * can run past the inlining budget, and then each vector is boxed).
     */
    private static float rowDot512(MemorySegment w, long base, int groups, float[] x, int xo, float[] tmp) {
        long data = base + 4L * groups;
        FloatVector total = FloatVector.zero(F512);
        for (int k = 0; k < groups; k++) {
            long at = data + (long) k * GROUP;
            int xi = xo + k * GROUP;
            FloatVector a0 = FloatVector.zero(F512);
            FloatVector a1 = a0;
            // Two decodes per iteration: with four or eight (unrolled) the method overruns C2's
            // inlining node budget (NodeCountInliningCutoff), the vectors get boxed, 5x slower.
            for (int j = 0; j < GROUP; j += 32) {
                a0 = decode(load16(w, at + j), F512).fma(FloatVector.fromArray(F512, x, xi + j), a0);
                a1 = decode(load16(w, at + j + 16), F512).fma(FloatVector.fromArray(F512, x, xi + j + 16), a1);
            }
            float scale = w.get(F8_E4M3MatmulScalar.F32, base + 4L * k) * UNSCALE;
            total = a0.add(a1).fma(FloatVector.broadcast(F512, scale), total);
        }
        total.intoArray(tmp, 0);
        return QuantDot.sumLanes(tmp, 16);
    }

    /** 16 codes at {@code at}, sign-extended to int lanes: bit 31 is the code's sign. */
    private static IntVector load16(MemorySegment w, long at) {
        return (IntVector) ByteVector.fromMemorySegment(B128, w, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2I, I512, 0);
    }

    /**
     * Sign-extended codes to their values times 2^8 (see the class comment). Integer ops build the
     * float, so no FP op ever sees a denormal: the only FP op, the masked FMA, gets {@code 2 + m/4}.
     */
    private static FloatVector decode(IntVector q, VectorSpecies<Float> fs) {
        FloatVector mag = q.lanewise(VectorOperators.LSHL, 20).and(0x07F00000).or(0x40000000).reinterpretAsFloats();
        VectorMask<Float> sub = mag.compare(VectorOperators.LT, 4f);
        mag = mag.lanewise(VectorOperators.FMA, 2f, -4f, sub);
        return mag.reinterpretAsInts().or(q.and(0x80000000)).reinterpretAsFloats();
    }

    private float rowDot(MemorySegment w, long base, int groups, float[] x, int xo, float[] tmp) {
        VectorSpecies<Float> fs = qs.floats();
        VectorSpecies<Byte> bs = qs.bytes();
        VectorSpecies<Integer> is = ints.species();
        int l = fs.length();
        int parts = bs.length() / l;
        int step = bs.length();
        long data = base + 4L * groups;
        FloatVector total = FloatVector.zero(fs);
        for (int k = 0; k < groups; k++) {
            FloatVector a0 = FloatVector.zero(fs);
            FloatVector a1 = a0;
            int g0 = k * GROUP;
            int chunk = 0;
            for (int j = 0; j < GROUP; j += step) {
                ByteVector b = ByteVector.fromMemorySegment(bs, w, data + g0 + j, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < parts; p++) {
                    IntVector iv = (IntVector) b.convertShape(VectorOperators.B2I, is, p);
                    FloatVector v = decode(iv, fs);
                    FloatVector xv = FloatVector.fromArray(fs, x, xo + g0 + j + p * l);
                    if ((chunk++ & 1) == 0) {
                        a0 = v.fma(xv, a0);
                    } else {
                        a1 = v.fma(xv, a1);
                    }
                }
            }
            float scale = w.get(F8_E4M3MatmulScalar.F32, base + 4L * k) * UNSCALE;
            total = a0.add(a1).fma(FloatVector.broadcast(fs, scale), total);
        }
        total.intoArray(tmp, 0);
        return QuantDot.sumLanes(tmp, l);
    }

    @Override
    public MatmulKernel scalar() {
        return scalar;
    }

    /**
     * The int species as a constant: {@code floats.withLanes(int.class)} does not fold to one in C2, and
     * a non-constant species sends every Vector API op down the slow Java fallback (measured: no faster
     * than the scalar twin). One tiny subclass per width keeps the call site monomorphic, as
     * {@link QuantSpecies} does.
     */
    private abstract static class Ints {
        abstract VectorSpecies<Integer> species();
    }

    private static final class Ints512 extends Ints {
        @Override
        VectorSpecies<Integer> species() {
            return IntVector.SPECIES_512;
        }
    }

    private static final class Ints256 extends Ints {
        @Override
        VectorSpecies<Integer> species() {
            return IntVector.SPECIES_256;
        }
    }

    private static final class Ints128 extends Ints {
        @Override
        VectorSpecies<Integer> species() {
            return IntVector.SPECIES_128;
        }
    }
}
