package dev.offramp.kernels.cpu.matmul;

import dev.offramp.kernels.cpu.simd.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fixed-order float dot product every vector quantized kernel ends in. Chunk {@code c} (lanes
 * {@code [cL, cL + L)}) always accumulates into accumulator {@code c % 2}; the two are added, then the
 * lanes are added first to last, then any values past the last whole chunk are added one by one. The
 * order depends only on the length and the species, never on the batch or the thread split. (JDK 25's
 * {@code reduceLanes(ADD)} has no specified order, which is why it is not used.)
 *
 * <p>Why two accumulators: one token's decode needs at least two independent FMA chains per row to
 * hide the FMA latency, and prefill wants as few accumulators per (row, token) as possible so that a
 * register tile covers several rows and tokens at once ({@link #dot2x4}: 2 rows x 4 tokens x 2 = 16
 * accumulators, 6 loads per 16 FMAs). With the four accumulators of the first version the only tile
 * that fit was 1 row x 4 tokens (20 loads per 16 FMAs): tinyllama Q4_0 prefill went from ~26-32 to
 * ~41 tok/s on one thread with this change (docs/benchmarks.md).
 */
final class QuantDot {
    private final QuantSpecies qs;

    QuantDot(QuantSpecies qs) {
        this.qs = qs;
    }

    /** Float lanes per chunk. */
    int lanes() {
        return qs.floats().length();
    }

    /** {@code lanesTmp} must hold at least one vector of floats; it receives the final lanes. */
    float dot(float[] w, int wo, float[] x, int xo, int len, float[] lanesTmp) {
        final VectorSpecies<Float> species = qs.floats();
        final int l = species.length();
        FloatVector a0 = FloatVector.zero(species);
        FloatVector a1 = a0;
        int whole = len - len % l;
        int pairs = whole - whole % (2 * l);
        int i = 0;
        for (; i < pairs; i += 2 * l) {
            a0 = FloatVector.fromArray(species, w, wo + i).fma(FloatVector.fromArray(species, x, xo + i), a0);
            a1 = FloatVector.fromArray(species, w, wo + i + l).fma(FloatVector.fromArray(species, x, xo + i + l), a1);
        }
        if (i < whole) {
            a0 = FloatVector.fromArray(species, w, wo + i).fma(FloatVector.fromArray(species, x, xo + i), a0);
            i += l;
        }
        a0.add(a1).intoArray(lanesTmp, 0);
        float s = sumLanes(lanesTmp, l);
        for (; i < len; i++) {
            s = Math.fma(w[wo + i], x[xo + i], s);
        }
        return s;
    }

    /**
     * Four tokens against one decoded row (the odd row left over by {@link #dot2x4}): every token gets
     * exactly {@link #dot}'s operations in {@link #dot}'s order. Writes the four sums to {@code out[0..4)}.
     */
    void dot4(float[] w, int wo, float[] x, int x0, int xs, int len, float[] out, float[] lanesTmp) {
        final VectorSpecies<Float> species = qs.floats();
        final int l = species.length();
        int x1 = x0 + xs;
        int x2 = x1 + xs;
        int x3 = x2 + xs;
        FloatVector z = FloatVector.zero(species);
        FloatVector p0 = z, q0 = z, r0 = z, s0 = z;
        FloatVector p1 = z, q1 = z, r1 = z, s1 = z;
        int whole = len - len % l;
        int pairs = whole - whole % (2 * l);
        int i = 0;
        for (; i < pairs; i += 2 * l) {
            FloatVector u = FloatVector.fromArray(species, w, wo + i);
            p0 = u.fma(FloatVector.fromArray(species, x, x0 + i), p0);
            q0 = u.fma(FloatVector.fromArray(species, x, x1 + i), q0);
            r0 = u.fma(FloatVector.fromArray(species, x, x2 + i), r0);
            s0 = u.fma(FloatVector.fromArray(species, x, x3 + i), s0);
            u = FloatVector.fromArray(species, w, wo + i + l);
            p1 = u.fma(FloatVector.fromArray(species, x, x0 + i + l), p1);
            q1 = u.fma(FloatVector.fromArray(species, x, x1 + i + l), q1);
            r1 = u.fma(FloatVector.fromArray(species, x, x2 + i + l), r1);
            s1 = u.fma(FloatVector.fromArray(species, x, x3 + i + l), s1);
        }
        if (i < whole) {
            FloatVector u = FloatVector.fromArray(species, w, wo + i);
            p0 = u.fma(FloatVector.fromArray(species, x, x0 + i), p0);
            q0 = u.fma(FloatVector.fromArray(species, x, x1 + i), q0);
            r0 = u.fma(FloatVector.fromArray(species, x, x2 + i), r0);
            s0 = u.fma(FloatVector.fromArray(species, x, x3 + i), s0);
            i += l;
        }
        p0.add(p1).intoArray(lanesTmp, 0);
        out[0] = sumLanes(lanesTmp, l);
        q0.add(q1).intoArray(lanesTmp, 0);
        out[1] = sumLanes(lanesTmp, l);
        r0.add(r1).intoArray(lanesTmp, 0);
        out[2] = sumLanes(lanesTmp, l);
        s0.add(s1).intoArray(lanesTmp, 0);
        out[3] = sumLanes(lanesTmp, l);
        for (; i < len; i++) {
            out[0] = Math.fma(w[wo + i], x[x0 + i], out[0]);
            out[1] = Math.fma(w[wo + i], x[x1 + i], out[1]);
            out[2] = Math.fma(w[wo + i], x[x2 + i], out[2]);
            out[3] = Math.fma(w[wo + i], x[x3 + i], out[3]);
        }
    }

    /**
     * Four tokens' activations ({@code x[x0 ..]}, {@code x0 + xs}, ...; {@code len} each) interleaved chunk
     * by chunk into {@code xp} from {@code xpo} for {@link #dot4Packed}: chunk c of token k at
     * {@code xp[xpo + 4 L c + k L]}, then the values past the last whole chunk, value i of token k at
     * {@code xp[xpo + 4 i + k]}.
     */
    void pack4(float[] x, int x0, int xs, int len, float[] xp, int xpo) {
        int l = lanes();
        int whole = len - len % l;
        for (int c = 0; c < whole; c += l) {
            for (int k = 0; k < 4; k++) {
                System.arraycopy(x, x0 + k * xs + c, xp, xpo + 4 * c + k * l, l);
            }
        }
        for (int i = whole; i < len; i++) {
            for (int k = 0; k < 4; k++) {
                xp[xpo + 4 * i + k] = x[x0 + k * xs + i];
            }
        }
    }

    /**
     * {@link #dot4} against activations packed by {@link #pack4} (from {@code xp[xpo]}): the same
     * operations in the same order, so the same bits, but every activation load sits at a constant
     * offset from one index. With four tokens' own offsets C2 recomputed and sign-extended each load's
     * index (~30 instructions per 8 FMAs at 256 bits, disassembled); packed, the loop is 20. The tile
     * for AVX2, where {@link #dot2x4}'s 16 accumulators spilled its 16 registers (docs/benchmarks.md,
     * session 11).
     */
    void dot4Packed(float[] w, int wo, float[] xp, int xpo, int len, float[] out, float[] lanesTmp) {
        final VectorSpecies<Float> species = qs.floats();
        final int l = species.length();
        FloatVector z = FloatVector.zero(species);
        FloatVector p0 = z, q0 = z, r0 = z, s0 = z;
        FloatVector p1 = z, q1 = z, r1 = z, s1 = z;
        int whole = len - len % l;
        int pairs = whole - whole % (2 * l);
        int i = 0;
        for (; i < pairs; i += 2 * l) {
            int j = xpo + 4 * i;
            FloatVector u = FloatVector.fromArray(species, w, wo + i);
            p0 = u.fma(FloatVector.fromArray(species, xp, j), p0);
            q0 = u.fma(FloatVector.fromArray(species, xp, j + l), q0);
            r0 = u.fma(FloatVector.fromArray(species, xp, j + 2 * l), r0);
            s0 = u.fma(FloatVector.fromArray(species, xp, j + 3 * l), s0);
            u = FloatVector.fromArray(species, w, wo + i + l);
            p1 = u.fma(FloatVector.fromArray(species, xp, j + 4 * l), p1);
            q1 = u.fma(FloatVector.fromArray(species, xp, j + 5 * l), q1);
            r1 = u.fma(FloatVector.fromArray(species, xp, j + 6 * l), r1);
            s1 = u.fma(FloatVector.fromArray(species, xp, j + 7 * l), s1);
        }
        if (i < whole) {
            int j = xpo + 4 * i;
            FloatVector u = FloatVector.fromArray(species, w, wo + i);
            p0 = u.fma(FloatVector.fromArray(species, xp, j), p0);
            q0 = u.fma(FloatVector.fromArray(species, xp, j + l), q0);
            r0 = u.fma(FloatVector.fromArray(species, xp, j + 2 * l), r0);
            s0 = u.fma(FloatVector.fromArray(species, xp, j + 3 * l), s0);
            i += l;
        }
        p0.add(p1).intoArray(lanesTmp, 0);
        q0.add(q1).intoArray(lanesTmp, l);
        r0.add(r1).intoArray(lanesTmp, 2 * l);
        s0.add(s1).intoArray(lanesTmp, 3 * l);
        treeSums(lanesTmp, l, 4, out);
        for (; i < len; i++) {
            float wv = w[wo + i];
            int j = xpo + 4 * i;
            out[0] = Math.fma(wv, xp[j], out[0]);
            out[1] = Math.fma(wv, xp[j + 1], out[1]);
            out[2] = Math.fma(wv, xp[j + 2], out[2]);
            out[3] = Math.fma(wv, xp[j + 3], out[3]);
        }
    }

    /**
     * Two decoded rows ({@code w[wo ..]} and {@code w[wo + ws ..]}) against four tokens, for prefill:
     * each weight chunk is loaded once for four tokens and each activation chunk once for two rows.
     * Every (row, token) gets exactly {@link #dot}'s operations in {@link #dot}'s order, so results are
     * bit-identical to eight separate {@code dot} calls. Writes row 0's four sums to {@code out[0..4)}
     * and row 1's to {@code out[4..8)}. {@code lanesTmp} must hold 8 vectors of floats.
     */
    void dot2x4(float[] w, int wo, int ws, float[] x, int x0, int xs, int len, float[] out, float[] lanesTmp) {
        final VectorSpecies<Float> species = qs.floats();
        final int l = species.length();
        int w1 = wo + ws;
        int x1 = x0 + xs;
        int x2 = x1 + xs;
        int x3 = x2 + xs;
        FloatVector z = FloatVector.zero(species);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, d0 = z, d1 = z, d2 = z, d3 = z;
        int whole = len - len % l;
        int pairs = whole - whole % (2 * l);
        int i = 0;
        // a/b: rows 0/1, even chunks; c/d: rows 0/1, odd chunks; digit = token.
        for (; i < pairs; i += 2 * l) {
            FloatVector u = FloatVector.fromArray(species, w, wo + i);
            FloatVector v = FloatVector.fromArray(species, w, w1 + i);
            FloatVector y0 = FloatVector.fromArray(species, x, x0 + i);
            FloatVector y1 = FloatVector.fromArray(species, x, x1 + i);
            FloatVector y2 = FloatVector.fromArray(species, x, x2 + i);
            FloatVector y3 = FloatVector.fromArray(species, x, x3 + i);
            a0 = u.fma(y0, a0);
            a1 = u.fma(y1, a1);
            a2 = u.fma(y2, a2);
            a3 = u.fma(y3, a3);
            b0 = v.fma(y0, b0);
            b1 = v.fma(y1, b1);
            b2 = v.fma(y2, b2);
            b3 = v.fma(y3, b3);
            u = FloatVector.fromArray(species, w, wo + i + l);
            v = FloatVector.fromArray(species, w, w1 + i + l);
            y0 = FloatVector.fromArray(species, x, x0 + i + l);
            y1 = FloatVector.fromArray(species, x, x1 + i + l);
            y2 = FloatVector.fromArray(species, x, x2 + i + l);
            y3 = FloatVector.fromArray(species, x, x3 + i + l);
            c0 = u.fma(y0, c0);
            c1 = u.fma(y1, c1);
            c2 = u.fma(y2, c2);
            c3 = u.fma(y3, c3);
            d0 = v.fma(y0, d0);
            d1 = v.fma(y1, d1);
            d2 = v.fma(y2, d2);
            d3 = v.fma(y3, d3);
        }
        if (i < whole) {
            FloatVector u = FloatVector.fromArray(species, w, wo + i);
            FloatVector v = FloatVector.fromArray(species, w, w1 + i);
            FloatVector y0 = FloatVector.fromArray(species, x, x0 + i);
            FloatVector y1 = FloatVector.fromArray(species, x, x1 + i);
            FloatVector y2 = FloatVector.fromArray(species, x, x2 + i);
            FloatVector y3 = FloatVector.fromArray(species, x, x3 + i);
            a0 = u.fma(y0, a0);
            a1 = u.fma(y1, a1);
            a2 = u.fma(y2, a2);
            a3 = u.fma(y3, a3);
            b0 = v.fma(y0, b0);
            b1 = v.fma(y1, b1);
            b2 = v.fma(y2, b2);
            b3 = v.fma(y3, b3);
            i += l;
        }
        // eight vectors out at once; at 512 bits their lane trees then run side by side
        a0.add(c0).intoArray(lanesTmp, 0);
        a1.add(c1).intoArray(lanesTmp, l);
        a2.add(c2).intoArray(lanesTmp, 2 * l);
        a3.add(c3).intoArray(lanesTmp, 3 * l);
        b0.add(d0).intoArray(lanesTmp, 4 * l);
        b1.add(d1).intoArray(lanesTmp, 5 * l);
        b2.add(d2).intoArray(lanesTmp, 6 * l);
        b3.add(d3).intoArray(lanesTmp, 7 * l);
        treeSums(lanesTmp, l, 8, out);
        for (; i < len; i++) {
            float wa = w[wo + i];
            float wb = w[w1 + i];
            out[0] = Math.fma(wa, x[x0 + i], out[0]);
            out[1] = Math.fma(wa, x[x1 + i], out[1]);
            out[2] = Math.fma(wa, x[x2 + i], out[2]);
            out[3] = Math.fma(wa, x[x3 + i], out[3]);
            out[4] = Math.fma(wb, x[x0 + i], out[4]);
            out[5] = Math.fma(wb, x[x1 + i], out[5]);
            out[6] = Math.fma(wb, x[x2 + i], out[6]);
            out[7] = Math.fma(wb, x[x3 + i], out[7]);
        }
    }

    /**
     * Three decoded rows ({@code w[wo ..]}, {@code w[wo + ws ..]}, {@code w[wo + 2 ws ..]}) against four
     * tokens, for prefill: 3 x 4 x 2 = 24 accumulators, 7 loads per 12 FMAs (the 2 x 4 tile: 6 per 8),
     * which leaves 7 of AVX-512's 32 registers for the loaded vectors. In one JVM, alternated, this tile
     * ran at ~1.6x {@link #dot2x4}'s GFLOPS from L1/L2 (docs/benchmarks.md). Every (row, token) gets
     * exactly {@link #dot}'s operations in {@link #dot}'s order. Writes row r's four sums to
     * {@code out[4r .. 4r + 4)}. {@code lanesTmp} must hold 12 vectors of floats.
     */
    void dot3x4(float[] w, int wo, int ws, float[] x, int x0, int xs, int len, float[] out, float[] lanesTmp) {
        final VectorSpecies<Float> species = qs.floats();
        final int l = species.length();
        int w1 = wo + ws;
        int w2 = w1 + ws;
        int x1 = x0 + xs;
        int x2 = x1 + xs;
        int x3 = x2 + xs;
        FloatVector z = FloatVector.zero(species);
        // a/b/c: rows 0/1/2, even chunks; e/f/g: rows 0/1/2, odd chunks; digit = token.
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z, c0 = z, c1 = z, c2 = z, c3 = z;
        FloatVector e0 = z, e1 = z, e2 = z, e3 = z, f0 = z, f1 = z, f2 = z, f3 = z, g0 = z, g1 = z, g2 = z, g3 = z;
        int whole = len - len % l;
        int pairs = whole - whole % (2 * l);
        int i = 0;
        for (; i < pairs; i += 2 * l) {
            FloatVector u = FloatVector.fromArray(species, w, wo + i);
            FloatVector v = FloatVector.fromArray(species, w, w1 + i);
            FloatVector q = FloatVector.fromArray(species, w, w2 + i);
            FloatVector y0 = FloatVector.fromArray(species, x, x0 + i);
            FloatVector y1 = FloatVector.fromArray(species, x, x1 + i);
            FloatVector y2 = FloatVector.fromArray(species, x, x2 + i);
            FloatVector y3 = FloatVector.fromArray(species, x, x3 + i);
            a0 = u.fma(y0, a0);
            a1 = u.fma(y1, a1);
            a2 = u.fma(y2, a2);
            a3 = u.fma(y3, a3);
            b0 = v.fma(y0, b0);
            b1 = v.fma(y1, b1);
            b2 = v.fma(y2, b2);
            b3 = v.fma(y3, b3);
            c0 = q.fma(y0, c0);
            c1 = q.fma(y1, c1);
            c2 = q.fma(y2, c2);
            c3 = q.fma(y3, c3);
            u = FloatVector.fromArray(species, w, wo + i + l);
            v = FloatVector.fromArray(species, w, w1 + i + l);
            q = FloatVector.fromArray(species, w, w2 + i + l);
            y0 = FloatVector.fromArray(species, x, x0 + i + l);
            y1 = FloatVector.fromArray(species, x, x1 + i + l);
            y2 = FloatVector.fromArray(species, x, x2 + i + l);
            y3 = FloatVector.fromArray(species, x, x3 + i + l);
            e0 = u.fma(y0, e0);
            e1 = u.fma(y1, e1);
            e2 = u.fma(y2, e2);
            e3 = u.fma(y3, e3);
            f0 = v.fma(y0, f0);
            f1 = v.fma(y1, f1);
            f2 = v.fma(y2, f2);
            f3 = v.fma(y3, f3);
            g0 = q.fma(y0, g0);
            g1 = q.fma(y1, g1);
            g2 = q.fma(y2, g2);
            g3 = q.fma(y3, g3);
        }
        if (i < whole) {
            FloatVector u = FloatVector.fromArray(species, w, wo + i);
            FloatVector v = FloatVector.fromArray(species, w, w1 + i);
            FloatVector q = FloatVector.fromArray(species, w, w2 + i);
            FloatVector y0 = FloatVector.fromArray(species, x, x0 + i);
            FloatVector y1 = FloatVector.fromArray(species, x, x1 + i);
            FloatVector y2 = FloatVector.fromArray(species, x, x2 + i);
            FloatVector y3 = FloatVector.fromArray(species, x, x3 + i);
            a0 = u.fma(y0, a0);
            a1 = u.fma(y1, a1);
            a2 = u.fma(y2, a2);
            a3 = u.fma(y3, a3);
            b0 = v.fma(y0, b0);
            b1 = v.fma(y1, b1);
            b2 = v.fma(y2, b2);
            b3 = v.fma(y3, b3);
            c0 = q.fma(y0, c0);
            c1 = q.fma(y1, c1);
            c2 = q.fma(y2, c2);
            c3 = q.fma(y3, c3);
            i += l;
        }
        // twelve vectors out at once; at 512 bits their lane trees then run side by side
        a0.add(e0).intoArray(lanesTmp, 0);
        a1.add(e1).intoArray(lanesTmp, l);
        a2.add(e2).intoArray(lanesTmp, 2 * l);
        a3.add(e3).intoArray(lanesTmp, 3 * l);
        b0.add(f0).intoArray(lanesTmp, 4 * l);
        b1.add(f1).intoArray(lanesTmp, 5 * l);
        b2.add(f2).intoArray(lanesTmp, 6 * l);
        b3.add(f3).intoArray(lanesTmp, 7 * l);
        c0.add(g0).intoArray(lanesTmp, 8 * l);
        c1.add(g1).intoArray(lanesTmp, 9 * l);
        c2.add(g2).intoArray(lanesTmp, 10 * l);
        c3.add(g3).intoArray(lanesTmp, 11 * l);
        treeSums(lanesTmp, l, 12, out);
        for (; i < len; i++) {
            for (int r = 0; r < 3; r++) {
                float wr = w[wo + r * ws + i];
                out[4 * r] = Math.fma(wr, x[x0 + i], out[4 * r]);
                out[4 * r + 1] = Math.fma(wr, x[x1 + i], out[4 * r + 1]);
                out[4 * r + 2] = Math.fma(wr, x[x2 + i], out[4 * r + 2]);
                out[4 * r + 3] = Math.fma(wr, x[x3 + i], out[4 * r + 3]);
            }
        }
    }

    /**
     * {@link #sumLanes} of {@code count} vectors stored one after another in {@code tmp}, into
     * {@code out[0 .. count)}: at 16 lanes side by side ({@link Lanes#tree16}, the same tree), at other
     * widths first to last as sumLanes adds them.
     */
    static void treeSums(float[] tmp, int lanes, int count, float[] out) {
        if (lanes == 16) {
            Lanes.tree16(tmp, count);
            for (int r = 0; r < count; r++) {
                out[r] = tmp[16 * r];
            }
            return;
        }
        for (int r = 0; r < count; r++) {
            float sum = 0f;
            for (int k = 0; k < lanes; k++) {
                sum += tmp[r * lanes + k];
            }
            out[r] = sum;
        }
    }

    /**
     * Lanes (stored by the caller into {@code tmp}) added in a fixed order on every platform and in
     * every compiler tier: 16 lanes (AVX-512) by halving (lane i + lane i + 8, then i + 4, ...), held in
     * locals, 4 adds deep instead of a chain of 15 (a one-token decode pays this once per row, a few
     * percent of a 2048-wide Q4_0 row in the profile); other widths first to last. Takes an array, not
     * a vector: a vector passed to a method C2 does not inline becomes a heap object, so vectors never
     * cross a call boundary in these kernels.
     */
    static float sumLanes(float[] tmp, int lanes) {
        if (lanes == 16) {
            float a0 = tmp[0] + tmp[8];
            float a1 = tmp[1] + tmp[9];
            float a2 = tmp[2] + tmp[10];
            float a3 = tmp[3] + tmp[11];
            float a4 = tmp[4] + tmp[12];
            float a5 = tmp[5] + tmp[13];
            float a6 = tmp[6] + tmp[14];
            float a7 = tmp[7] + tmp[15];
            return ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
        }
        float s = 0f;
        for (int i = 0; i < lanes; i++) {
            s += tmp[i];
        }
        return s;
    }
}
