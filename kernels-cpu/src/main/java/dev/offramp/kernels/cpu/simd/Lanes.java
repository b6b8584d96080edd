package dev.offramp.kernels.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector helpers with a fixed, documented arithmetic order, shared by the Vector API kernels.
 *
 * <p>{@code reduceLanes(ADD)} on floats has no specified order (it may differ between the interpreter
 * and C2), which would make a row's result depend on JIT timing. {@link #sum} instead always adds
 * lane {@code i} to lane {@code i + L/2}, then halves again: a fixed pairwise tree for a given lane
 * count {@code L}.
 */
public final class Lanes {
    private Lanes() {
    }

    /** Sum of all lanes in a fixed pairwise order (lane i + lane i+L/2, recursively). */
    public static float sum(FloatVector v) {
        return switch (v.length()) {
            case 16 -> sum16(v);
            case 8 -> sum8(v);
            case 4 -> (v.lane(0) + v.lane(2)) + (v.lane(1) + v.lane(3));
            case 2 -> v.lane(0) + v.lane(1);
            case 1 -> v.lane(0);
            default -> sumAny(v.toArray());
        };
    }

    private static float sum16(FloatVector v) {
        float s0 = v.lane(0) + v.lane(8);
        float s1 = v.lane(1) + v.lane(9);
        float s2 = v.lane(2) + v.lane(10);
        float s3 = v.lane(3) + v.lane(11);
        float s4 = v.lane(4) + v.lane(12);
        float s5 = v.lane(5) + v.lane(13);
        float s6 = v.lane(6) + v.lane(14);
        float s7 = v.lane(7) + v.lane(15);
        return ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
    }

    private static float sum8(FloatVector v) {
        float s0 = v.lane(0) + v.lane(4);
        float s1 = v.lane(1) + v.lane(5);
        float s2 = v.lane(2) + v.lane(6);
        float s3 = v.lane(3) + v.lane(7);
        return (s0 + s2) + (s1 + s3);
    }

    /**
     * {@link #sum(FloatVector)} through memory: one store into {@code scratch} (at least
     * {@code v.length()} floats, owned by the calling thread) and the tree ({@link #tree8} and
     * {@link #tree16} at those widths). Same bits, far fewer compiler nodes than lane extraction, so it
     * does not crowd big kernel loops out of inlining.
     */
    public static float sum(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        return switch (v.length()) {
            case 16 -> {
                tree16(scratch, 1);
                yield scratch[0];
            }
            case 8 -> {
                tree8(scratch, 1);
                yield scratch[0];
            }
            default -> tree(scratch, v.length());
        };
    }

    /**
     * {@link #tree}{@code (a, 16)} for {@code count} vectors stored at {@code a[16r .. 16r + 16)}, result r
     * left in {@code a[16r]}: the tree's first two levels as one 256-bit and one 128-bit add per vector
     * (lanes i + i + 8, then i + i + 4), the last two in scalars. The same additions in the same tree,
     * so the same bits, with about half the loads and adds; a prefill tile that ends with eight or
     * twelve lane sums spent 11-19% of its time in them (JFR).
     */
    public static void tree16(float[] a, int count) {
        for (int r = 0; r < count; r++) {
            int o = 16 * r;
            FloatVector.fromArray(FloatVector.SPECIES_256, a, o).add(FloatVector.fromArray(FloatVector.SPECIES_256, a, o + 8))
                    .intoArray(a, o);
            FloatVector.fromArray(FloatVector.SPECIES_128, a, o).add(FloatVector.fromArray(FloatVector.SPECIES_128, a, o + 4))
                    .intoArray(a, o);
            a[o] = (a[o] + a[o + 2]) + (a[o + 1] + a[o + 3]);
        }
    }

    /**
     * {@link #tree}{@code (a, 8)} for {@code count} vectors stored at {@code a[8r .. 8r + 8)}, result r
     * left in {@code a[8r]}: the first level as one 128-bit add per vector, the last two in scalars, as
     * {@link #tree16} does. The scalar tree stores and reloads the array at every level (a chain of
     * store forwards): the decode attention, which sums four positions' lanes per pass, spent 6% of a
     * smollm-135m token there (one thread, JFR).
     */
    public static void tree8(float[] a, int count) {
        for (int r = 0; r < count; r++) {
            int o = 8 * r;
            FloatVector.fromArray(FloatVector.SPECIES_128, a, o).add(FloatVector.fromArray(FloatVector.SPECIES_128, a, o + 4))
                    .intoArray(a, o);
            a[o] = (a[o] + a[o + 2]) + (a[o + 1] + a[o + 3]);
        }
    }

    /**
     * {@link #tree} for {@code count} vectors of {@code lanes} floats stored one after another in
     * {@code a}, result r left in {@code a[r lanes]}: {@link #tree16} at 16 lanes, {@link #tree8} at 8,
     * one tree per vector otherwise. The same bits as {@link #sum(FloatVector)} of each vector.
     */
    public static void trees(float[] a, int lanes, int count) {
        if (lanes == 16) {
            tree16(a, count);
            return;
        }
        if (lanes == 8) {
            tree8(a, count);
            return;
        }
        for (int r = 0; r < count; r++) {
            tree(a, r * lanes, lanes);
        }
    }

    /** In-place pairwise tree over {@code a[0 .. n)}: a[i] += a[i + n/2], recursively. */
    public static float tree(float[] a, int n) {
        return tree(a, 0, n);
    }

    /** {@link #tree(float[], int)} over {@code a[o .. o + n)}, result left in {@code a[o]}. */
    private static float tree(float[] a, int o, int n) {
        while (n > 1) {
            n >>= 1;
            for (int i = 0; i < n; i++) {
                a[o + i] = a[o + i] + a[o + i + n];
            }
        }
        return a[o];
    }

    /** The same tree for any power-of-two lane count (wide SVE vectors). */
    static float sumAny(float[] a) {
        int n = a.length;
        while (n > 1) {
            n >>= 1;
            for (int i = 0; i < n; i++) {
                a[i] = a[i] + a[i + n];
            }
        }
        return a[0];
    }

    /** Scalar model of {@link #sum}'s order for {@code a[off .. off+L)}; for tests. */
    public static float sumModel(float[] a, int off, int lanes) {
        return sumAny(java.util.Arrays.copyOfRange(a, off, off + lanes));
    }

    /**
     * Widens IEEE binary16 values (in the low 16 bits of each int lane, sign-extended or not) to
     * floats, exactly like {@link Float#float16ToFloat}. There are no F16 lanes in the Vector API, so
     * this is done on the bits: the 15 magnitude bits shifted into float position give the value
     * times 2^-112 (subnormal halves become subnormal floats, still exact), one multiply by 2^112
     * rescales. Infinities and NaNs (magnitude {@code >= 0x7C00}) get the all-ones float exponent and
     * NaNs the quiet bit, as {@code vcvtph2ps} does; both flags come from carries out of 16-bit adds
     * rather than compare masks, which keeps the loop free of mask registers.
     */
    public static FloatVector halfToFloat(IntVector h) {
        IntVector mag = h.and(0x7FFF);
        IntVector bits = mag.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        // (mag + 0x10000 - 0x7C00) >>> 16 is 1 exactly when mag >= 0x7C00 (mag < 0x8000)
        IntVector infNan = mag.add(0x10000 - 0x7C00).lanewise(VectorOperators.LSHR, 16).neg().and(0x7F800000);
        IntVector quiet = mag.add(0x10000 - 0x7C01).lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.LSHL, 22);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return bits.or(infNan).or(quiet).or(sign).reinterpretAsFloats();
    }

    /**
     * {@link #halfToFloat} for halves known to be finite (exponent below 31): the same bits with
     * five integer/float operations. The sign comes from bit 31 of the sign-extended lane.
     */
    public static FloatVector finiteHalfToFloat(IntVector h) {
        IntVector mag = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector bits = mag.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        return bits.or(h.and(0x80000000)).reinterpretAsFloats();
    }

    /** Widens bfloat16 values (low 16 bits of each int lane) to floats: they are a float's upper half. */
    public static FloatVector bf16ToFloat(IntVector h) {
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
