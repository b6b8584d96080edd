package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector FP8 E4M3FN matmul over {@link DType#F8_E4M3_G128} rows. Bytes are widened as in
 * {@link F8_E4M3MatmulVector} (sign and magnitude bits moved into float position, times 2^120, exact);
 * each group of 128 accumulates into two vectors, which are summed and folded into the row total with
 * one vector FMA by the group's scale, so lanes are reduced once per row, not per group. The order of
 * operations depends only on the row, never on the batch.
 *
 * <p>Subnormal codes (exponent 0, mantissa not 0) reach the multiply as float subnormals, which x86
 * serves with microcode assists. An exact denormal-free decode (exponent {@code 128 + e} by OR, the
 * exponent-0 lanes fixed by a compare and a masked FMA, the sign put back last) was measured
 * (2026-11-23, docs/benchmarks.md): 7 vector ops instead of 5, 1.15x faster on random bytes (1 code
 * in 16 subnormal) but 0.83x on codes encoded from Gaussian weights the way FP8 checkpoints are,
 * where subnormals are rare and zeros (exponent 0, mantissa 0) decode to 0 with no assist. Real
 * weights are the second kind, so this decode stays.
 */
public final class F8_E4M3G128MatmulVector implements MatmulKernel {

    private static final int GROUP = F8_E4M3G128MatmulScalar.GROUP;
    private final QuantSpecies qs;
    private final Ints ints;
    private final F8_E4M3G128MatmulScalar scalar = new F8_E4M3G128MatmulScalar();
    private final ThreadLocal<float[]> lanes = ThreadLocal.withInitial(() -> new float[64]);

    public F8_E4M3G128MatmulVector(VectorSpecies<Float> species) {
        this.qs = QuantSpecies.of(species);
        this.ints = Ints.of(species);
        if (GROUP % qs.bytes().length() != 0) {
            throw new IllegalArgumentException("byte species of " + qs.bytes().length() + " lanes does not divide " + GROUP);
        }
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
                out[t * outStride + r] = rowDot(w, base, groups, x, t * xStride, tmp);
            }
        }
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
                    // B2I sign-extends, so bit 11 of the lane is a copy of the byte's sign: after one
                    // shift by 20 it lands in bit 31, the magnitude in bits 26..20, and one mask clears
                    // the sign copies left in bits 30..27 (same bits as and/shift/and/or, two ops fewer).
                    IntVector bits = iv.lanewise(VectorOperators.LSHL, 20).and(0x87F00000);
                    FloatVector v = bits.reinterpretAsFloats().mul(F8_E4M3MatmulScalar.TWO_POW_120);
                    FloatVector xv = FloatVector.fromArray(fs, x, xo + g0 + j + p * l);
                    if ((chunk++ & 1) == 0) {
                        a0 = v.fma(xv, a0);
                    } else {
                        a1 = v.fma(xv, a1);
                    }
                }
            }
            total = a0.add(a1).fma(FloatVector.broadcast(fs, w.get(F8_E4M3MatmulScalar.F32, base + 4L * k)), total);
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
    abstract static class Ints {
        abstract VectorSpecies<Integer> species();

        static Ints of(VectorSpecies<Float> species) {
            return switch (species.vectorBitSize()) {
                case 512 -> new Ints512();
                case 256 -> new Ints256();
                case 128 -> new Ints128();
                default -> throw new IllegalArgumentException("no FP8 vector kernel at " + species.vectorBitSize() + " bits");
            };
        }
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
