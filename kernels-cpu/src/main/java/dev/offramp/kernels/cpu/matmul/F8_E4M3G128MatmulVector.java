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
 * Vector FP8 E4M3FN matmul over {@link DType#F8_E4M3_G128} rows. Bytes are sign-extended to int lanes;
 * each group of 128 accumulates into two vectors, which are summed and folded into the row total with
 * one vector FMA by the group's scale, so lanes are reduced once per row, not per group. The order of
 * operations depends only on the row, never on the batch, and both decodes below give the same bits.
 *
 * <p>Batches (prefill) and narrower species widen exactly with {@link MinifloatWiden#e4m3} (7 ops per
 * 16 codes, no float subnormal formed). One token at 512 bits, the decode path that streams the whole
 * model per token, takes two int ops per 16 codes and moves the missing power of two to the activations
 * and the group scales ({@link #rows512}); with it FP8 streams about as fast per byte as Q8_0 (docs/benchmarks.md).
 *
 * <p>The 512-bit loops are small static methods of their own whose loops end on {@code !=}: with
 * {@code <} C2 unrolls them, and the unrolled loop streamed about half as fast from DRAM in a
 * one-thread probe (docs/benchmarks.md, "FP8 and F16 decode without subnormals").
 */
public final class F8_E4M3G128MatmulVector implements MatmulKernel {

    private static final int GROUP = F8_E4M3G128MatmulScalar.GROUP;
    private final QuantSpecies qs;
    private final Ints ints;
    private final F8_E4M3G128MatmulScalar scalar = new F8_E4M3G128MatmulScalar();
    private final ThreadLocal<float[]> lanes = ThreadLocal.withInitial(() -> new float[64]);
    /** One token's activations times {@link #X_UP}, per calling thread, grown to the widest row seen. */
    private final ThreadLocal<float[]> scaled = ThreadLocal.withInitial(() -> new float[0]);
    /**
     * Powers of two that undo the fast decode's 2^-120: {@code X_UP * G_UP == 2^120}. 2^80 on the
     * activations keeps them finite up to 2^48 and the products normal down to {@code |w x| = 2^-86}.
     */
    static final float X_UP = 0x1p80f;
    static final float G_UP = 0x1p40f;

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
        if (n == 1 && qs.floats().length() == 16) {
            float[] xs = scaled.get();
            if (xs.length < cols) {
                xs = new float[cols];
                scaled.set(xs);
            }
            scaleUp(x, xs, cols);
            rows512(w, rb, groups, xs, out, rowStart, rowEnd, tmp);
            return;
        }
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rb;
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = rowDot(w, base, groups, x, t * xStride, tmp);
            }
        }
    }

    private float rowDot(MemorySegment w, long base, int groups, float[] x, int xo, float[] tmp) {
        VectorSpecies<Float> fs = qs.floats();
        int l = fs.length();
        if (l == 16) {
            return rowDot512(w, base, groups, x, xo, tmp);
        }
        VectorSpecies<Byte> bs = qs.bytes();
        VectorSpecies<Integer> is = ints.species();
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
                    FloatVector v = MinifloatWiden.e4m3((IntVector) b.convertShape(VectorOperators.B2I, is, p));
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

    /**
     * {@link #rowDot} at 512 bits: the same values, accumulators (chunk c of a group into {@code a(c % 2)})
     * and order. The inner bound is tested with {@code !=} on purpose: C2 then keeps the group loop as
     * written instead of unrolling it, which streamed ~1.7x faster from DRAM (probe, 5632x2048 over 140
     * MB: 15-19 GB/s against 9-10 for the unrolled shape; the same effect held for the fast decode alone).
     */
    private static float rowDot512(MemorySegment w, long base, int groups, float[] x, int xo, float[] tmp) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        long data = base + 4L * groups;
        FloatVector total = FloatVector.zero(fs);
        for (int k = 0; k < groups; k++) {
            FloatVector a0 = FloatVector.zero(fs);
            FloatVector a1 = a0;
            long g = data + (long) GROUP * k;
            int xg = xo + GROUP * k;
            for (int j = 0; j != GROUP; j += 32) {
                a0 = MinifloatWiden.e4m3(signedBytes(w, g + j)).fma(FloatVector.fromArray(fs, x, xg + j), a0);
                a1 = MinifloatWiden.e4m3(signedBytes(w, g + j + 16)).fma(FloatVector.fromArray(fs, x, xg + j + 16), a1);
            }
            total = a0.add(a1).fma(FloatVector.broadcast(fs, w.get(F8_E4M3MatmulScalar.F32, base + 4L * k)), total);
        }
        total.intoArray(tmp, 0);
        return QuantDot.sumLanes(tmp, 16);
    }

    /**
     * One token, rows {@code [rowStart, rowEnd)}, 512 bits, with a decode of two int ops per 16 codes.
     *
     * <p>{@code (lane << 20) & 0x87F00000} on the sign-extended code puts its sign at bit 31 and its
     * exponent and mantissa at the bottom of a float's: the float's value is exactly the code's times
     * {@code 2^-120}, subnormal codes included (they become float subnormals). Multiplying that by
     * 2^120 per weight costs an op, so the power of two moves out of the loop: the activations are
     * scaled by {@link #X_UP} once per call, each product is then {@code w x 2^-40} and each group sum
     * is folded into the row with its scale times {@link #G_UP}. Scaling by powers of two commutes with
     * rounding while nothing leaves the normal range, so the result is the same bits as the exact
     * decode's ({@link #rowDot512}) unless an activation reaches 2^48 or a product falls below 2^-86.
     *
     * <p>Only codes with exponent 0 and a nonzero mantissa form a float subnormal, which some x86 cores
     * serve with a microcode assist. In FP8 checkpoints (scale amax/448 per group or row) those are
     * values under 2^-15 of the group's largest, so rare; on this project's AMD machines even uniformly
     * random bytes (one code in 16 of that kind) streamed as fast as Gaussian codes (docs/benchmarks.md).
     * The group's two 64-byte steps run on a long byte address ending on {@code !=}, the shape of
     * Q8_0's one-token loop: with two 16-byte chunks per step and an int index it streamed ~20% slower.
     */
    private static void rows512(MemorySegment w, long rb, int groups, float[] xs, float[] out, int rowStart,
                                int rowEnd, float[] tmp) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rb;
            long data = base + 4L * groups;
            FloatVector total = FloatVector.zero(fs);
            for (int k = 0; k < groups; k++) {
                FloatVector a0 = FloatVector.zero(fs);
                FloatVector a1 = a0;
                long g = data + (long) GROUP * k;
                int xg = GROUP * k;
                for (long at = g, end = g + GROUP; at != end; at += 64, xg += 64) {
                    a0 = scaledDown(signedBytes(w, at)).fma(FloatVector.fromArray(fs, xs, xg), a0);
                    a1 = scaledDown(signedBytes(w, at + 16)).fma(FloatVector.fromArray(fs, xs, xg + 16), a1);
                    a0 = scaledDown(signedBytes(w, at + 32)).fma(FloatVector.fromArray(fs, xs, xg + 32), a0);
                    a1 = scaledDown(signedBytes(w, at + 48)).fma(FloatVector.fromArray(fs, xs, xg + 48), a1);
                }
                total = a0.add(a1).fma(FloatVector.broadcast(fs, w.get(F8_E4M3MatmulScalar.F32, base + 4L * k) * G_UP), total);
            }
            total.intoArray(tmp, 0);
            out[r] = QuantDot.sumLanes(tmp, 16);
        }
    }

    /** Sign-extended E4M3 codes to their values times 2^-120, exactly (see {@link #rows512}). */
    static FloatVector scaledDown(IntVector b) {
        return b.lanewise(VectorOperators.LSHL, 20).and(0x87F00000).reinterpretAsFloats();
    }

    /** {@code x} times {@link #X_UP} into {@code xs}. */
    static void scaleUp(float[] x, float[] xs, int cols) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        int c = 0;
        for (; c <= cols - 16; c += 16) {
            FloatVector.fromArray(fs, x, c).mul(X_UP).intoArray(xs, c);
        }
        for (; c < cols; c++) {
            xs[c] = x[c] * X_UP;
        }
    }

    /** The 16 bytes at {@code at}, sign-extended to the 16 int lanes of a 512-bit vector (one {@code vpmovsxbd}). */
    static IntVector signedBytes(MemorySegment w, long at) {
        return (IntVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2I, IntVector.SPECIES_512, 0);
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
