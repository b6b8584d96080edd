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
     * Four tokens at once against one decoded row, for prefill: each weight chunk is loaded once for
     * four tokens. Every token gets exactly {@link #dot}'s operations in {@link #dot}'s order (its own
     * four accumulators, chunk c into c % 4, the same final sum), so results are bit-identical to
     * four separate {@code dot} calls. Writes the four sums to {@code out[0..4)}.
     */
    void dot4(float[] w, int wo, float[] x, int x0, int x1, int x2, int x3, int len, float[] out, float[] lanesTmp) {
        final VectorSpecies<Float> species = qs.floats();
        final int l = species.length();
        FloatVector z = FloatVector.zero(species);
        FloatVector p0 = z, p1 = z, p2 = z, p3 = z;
        FloatVector q0 = z, q1 = z, q2 = z, q3 = z;
        FloatVector r0 = z, r1 = z, r2 = z, r3 = z;
        FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
        int i = 0;
        for (int end = len - 4 * l; i <= end; i += 4 * l) {
            FloatVector w0 = FloatVector.fromArray(species, w, wo + i);
            FloatVector w1 = FloatVector.fromArray(species, w, wo + i + l);
            FloatVector w2 = FloatVector.fromArray(species, w, wo + i + 2 * l);
            FloatVector w3 = FloatVector.fromArray(species, w, wo + i + 3 * l);
            p0 = w0.fma(FloatVector.fromArray(species, x, x0 + i), p0);
            q0 = w0.fma(FloatVector.fromArray(species, x, x1 + i), q0);
            r0 = w0.fma(FloatVector.fromArray(species, x, x2 + i), r0);
            s0 = w0.fma(FloatVector.fromArray(species, x, x3 + i), s0);
            p1 = w1.fma(FloatVector.fromArray(species, x, x0 + i + l), p1);
            q1 = w1.fma(FloatVector.fromArray(species, x, x1 + i + l), q1);
            r1 = w1.fma(FloatVector.fromArray(species, x, x2 + i + l), r1);
            s1 = w1.fma(FloatVector.fromArray(species, x, x3 + i + l), s1);
            p2 = w2.fma(FloatVector.fromArray(species, x, x0 + i + 2 * l), p2);
            q2 = w2.fma(FloatVector.fromArray(species, x, x1 + i + 2 * l), q2);
            r2 = w2.fma(FloatVector.fromArray(species, x, x2 + i + 2 * l), r2);
            s2 = w2.fma(FloatVector.fromArray(species, x, x3 + i + 2 * l), s2);
            p3 = w3.fma(FloatVector.fromArray(species, x, x0 + i + 3 * l), p3);
            q3 = w3.fma(FloatVector.fromArray(species, x, x1 + i + 3 * l), q3);
            r3 = w3.fma(FloatVector.fromArray(species, x, x2 + i + 3 * l), r3);
            s3 = w3.fma(FloatVector.fromArray(species, x, x3 + i + 3 * l), s3);
        }
        // Tail chunks (fewer than four) go to accumulators 0, 1, 2 in order, as in dot().
        if (i + l <= len) {
            FloatVector w0 = FloatVector.fromArray(species, w, wo + i);
            p0 = w0.fma(FloatVector.fromArray(species, x, x0 + i), p0);
            q0 = w0.fma(FloatVector.fromArray(species, x, x1 + i), q0);
            r0 = w0.fma(FloatVector.fromArray(species, x, x2 + i), r0);
            s0 = w0.fma(FloatVector.fromArray(species, x, x3 + i), s0);
            i += l;
            if (i + l <= len) {
                FloatVector w1 = FloatVector.fromArray(species, w, wo + i);
                p1 = w1.fma(FloatVector.fromArray(species, x, x0 + i), p1);
                q1 = w1.fma(FloatVector.fromArray(species, x, x1 + i), q1);
                r1 = w1.fma(FloatVector.fromArray(species, x, x2 + i), r1);
                s1 = w1.fma(FloatVector.fromArray(species, x, x3 + i), s1);
                i += l;
                if (i + l <= len) {
                    FloatVector w2 = FloatVector.fromArray(species, w, wo + i);
                    p2 = w2.fma(FloatVector.fromArray(species, x, x0 + i), p2);
                    q2 = w2.fma(FloatVector.fromArray(species, x, x1 + i), q2);
                    r2 = w2.fma(FloatVector.fromArray(species, x, x2 + i), r2);
                    s2 = w2.fma(FloatVector.fromArray(species, x, x3 + i), s2);
                    i += l;
                }
            }
        }
        p0.add(p1).add(p2.add(p3)).intoArray(lanesTmp, 0);
        out[0] = sumLanes(lanesTmp, l);
        q0.add(q1).add(q2.add(q3)).intoArray(lanesTmp, 0);
        out[1] = sumLanes(lanesTmp, l);
        r0.add(r1).add(r2.add(r3)).intoArray(lanesTmp, 0);
        out[2] = sumLanes(lanesTmp, l);
        s0.add(s1).add(s2.add(s3)).intoArray(lanesTmp, 0);
        out[3] = sumLanes(lanesTmp, l);
        for (; i < len; i++) {
            out[0] = Math.fma(w[wo + i], x[x0 + i], out[0]);
            out[1] = Math.fma(w[wo + i], x[x1 + i], out[1]);
            out[2] = Math.fma(w[wo + i], x[x2 + i], out[2]);
            out[3] = Math.fma(w[wo + i], x[x3 + i], out[3]);
        }
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
