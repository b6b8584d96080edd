package dev.offramp.kernels.cpu.matmul;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fixed-order float dot product every vector quantized kernel ends in. Chunk {@code c} (lanes
 * {@code [cL, cL + L)}) always accumulates into accumulator {@code c % 4}; the four are combined as
 * {@code (a0 + a1) + (a2 + a3)}, then the lanes are added first to last, then any values past the
 * last whole chunk are added one by one. The order depends only on the length and the species, never
 * on the batch or the thread split. (JDK 25's {@code reduceLanes(ADD)} has no specified order, which is
 * why it is not used.)
 */
final class QuantDot {
    private final QuantSpecies qs;

    QuantDot(QuantSpecies qs) {
        this.qs = qs;
    }

    /** {@code lanesTmp} must hold at least one vector of floats; it receives the final lanes. */
    float dot(float[] w, int wo, float[] x, int xo, int len, float[] lanesTmp) {
        final VectorSpecies<Float> species = qs.floats();
        final int l = species.length();
        FloatVector a0 = FloatVector.zero(species);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (int end = len - 4 * l; i <= end; i += 4 * l) {
            a0 = FloatVector.fromArray(species, w, wo + i).fma(FloatVector.fromArray(species, x, xo + i), a0);
            a1 = FloatVector.fromArray(species, w, wo + i + l).fma(FloatVector.fromArray(species, x, xo + i + l), a1);
            a2 = FloatVector.fromArray(species, w, wo + i + 2 * l).fma(FloatVector.fromArray(species, x, xo + i + 2 * l), a2);
            a3 = FloatVector.fromArray(species, w, wo + i + 3 * l).fma(FloatVector.fromArray(species, x, xo + i + 3 * l), a3);
        }
        if (i + l <= len) {
            a0 = FloatVector.fromArray(species, w, wo + i).fma(FloatVector.fromArray(species, x, xo + i), a0);
            i += l;
            if (i + l <= len) {
                a1 = FloatVector.fromArray(species, w, wo + i).fma(FloatVector.fromArray(species, x, xo + i), a1);
                i += l;
                if (i + l <= len) {
                    a2 = FloatVector.fromArray(species, w, wo + i).fma(FloatVector.fromArray(species, x, xo + i), a2);
                    i += l;
                }
            }
        }
        a0.add(a1).add(a2.add(a3)).intoArray(lanesTmp, 0);
        float s = sumLanes(lanesTmp, l);
        for (; i < len; i++) {
            s = Math.fma(w[wo + i], x[xo + i], s);
        }
        return s;
    }

    /**
     * Lanes (stored by the caller into {@code tmp}) added first to last: a fixed order on every platform
     * and in every compiler tier. Takes an array, not a vector: a vector passed to a method C2 does not
     * inline becomes a heap object, so vectors never cross a call boundary in these kernels.
     */
    static float sumLanes(float[] tmp, int lanes) {
        float s = 0f;
        for (int i = 0; i < lanes; i++) {
            s += tmp[i];
        }
        return s;
    }
}
