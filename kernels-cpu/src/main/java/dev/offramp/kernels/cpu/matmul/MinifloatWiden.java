package dev.offramp.kernels.cpu.matmul;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Exact FP8 E4M3 and F16 to float widening in int lanes, with no float subnormal anywhere (the Vector
 * API has no minifloat conversion, and x86 serves float subnormal operands with slow assists).
 *
 * <p>The trick: put the magnitude bits where a float keeps its exponent and mantissa and add the
 * exponent bias difference as an integer ({@code 120 << 23} for E4M3, {@code 112 << 23} for F16).
 * That float {@code a} is exact for every normal code. For exponent-0 codes (zero and subnormals) it
 * is {@code 2^-7 + m 2^-10} (F16: {@code 2^-15 + m 2^-24}) instead of {@code m 2^-9} ({@code m 2^-24}),
 * and the exact value is {@code 2a - 2^-6} ({@code 2a - 2^-14}): one FMA, exact (Sterbenz) and never
 * subnormal. For normal codes {@code 2a - 2^-6 >= a}, for exponent-0 codes it is smaller, so the
 * minimum of the two is the exact magnitude in every lane; both are non-negative, so the minimum is
 * taken on the bit patterns ({@code vpminsd}: one instruction, where a float min with Java's -0/NaN
 * rules is several). The sign is OR-ed back last, from bit 31 of the sign-extended lane.
 *
 * <p>Per 16 lanes: shift, and, add, FMA, int min, and, or: 7 ops besides the widening load and the
 * dot's FMA (the old decode, bits times 2^120, was 3 but took an assist on every subnormal operand).
 *
 * <pre>
 * IntVector codes = (IntVector) bytes.convertShape(VectorOperators.B2I, IntVector.SPECIES_512, 0);
 * FloatVector w = MinifloatWiden.e4m3(codes);   // == Fp8E4M3.decode per lane, NaN codes as +-480
 * </pre>
 */
final class MinifloatWiden {
    private MinifloatWiden() {
    }

    /**
     * E4M3FN codes, sign-extended from bytes into int lanes, to their exact float values (subnormals
     * and zeros included; the NaN codes 0x7F/0xFF come out as +-480, as {@link F8_E4M3MatmulScalar}'s).
     */
    static FloatVector e4m3(IntVector b) {
        IntVector a = b.lanewise(VectorOperators.LSHL, 20).and(0x07F00000).add(120 << 23);
        IntVector sub = a.reinterpretAsFloats().fma(2f, -0x1p-6f).reinterpretAsInts();
        return a.min(sub).or(b.and(0x80000000)).reinterpretAsFloats();
    }

    /**
     * IEEE halves, sign-extended from shorts into int lanes, to their exact float values for every
     * finite half (subnormals and zeros included). Infinities and NaNs come out as finite garbage:
     * callers take this path only for weights scanned free of them.
     */
    static FloatVector f16(IntVector h) {
        IntVector a = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).add(112 << 23);
        IntVector sub = a.reinterpretAsFloats().fma(2f, -0x1p-14f).reinterpretAsInts();
        return a.min(sub).or(h.and(0x80000000)).reinterpretAsFloats();
    }
}
