package dev.offramp.kernels.cpu.matmul;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Block sums of 4-bit weights against int8 activations with one weight row per 16-bit lane: the
 * integer core shared by the Q4_0 and Q4_K kernels on int8 activations.
 *
 * <p>A group is as many rows as the machine's preferred vector has short lanes ({@link #GROUP}: 32 on
 * 512-bit machines, 16 on AVX2 ones; the repacked layouts are built at load, never stored, so they may
 * differ by machine while the results' bits do not). Its weights are stored in blocks of 32 columns,
 * {@code 8 * LINE} bytes each: eight vectors whose lane {@link #lane lane(r)} holds bytes
 * {@code 2j, 2j + 1} of row r's block in Q4_0's nibble order (low nibble = column c, high = c + 16),
 * i.e. the nibbles of columns 2j, 2j + 16, 2j + 1, 2j + 17. A column is then one broadcast activation
 * times a group's weights ({@code vpmullw}), and a block's products add up in the lanes: {@code sum (q - 8) xq} is at most 32 * 8 * 127 = 32512 in
 * magnitude, so starting each lane at {@code -8 * sum(xq)} and adding the unsigned nibbles' products
 * (which may wrap 16 bits on the way) ends at that sum exactly. Integer addition is exact, so the
 * order of a block's columns changes nothing.
 *
 * <p>Two idioms recur in these loops and in the kernels' scaling passes, written out at each use rather
 * than as helper methods: a helper that returns a vector is fast only where C2 inlines it (within its
 * node budget, once both are compiled); called for real, the vector is boxed on every call in the Vector
 * API's Java fallback (JFR caught {@code Q4_0Int8MatmulVector.finish1} calling {@code low}/{@code high}
 * that way for seconds of decode, at ~5x slower).
 * <ul>
 * <li>The nibble at bit 4, 8 or 12 of each short: {@code v.reinterpretAsInts().lanewise(LSHR, k)
 * .reinterpretAsShorts().and(0xF)}. The shift is made on the int lanes because C2 compiles a short shift
 * by a constant as a count moved into a register before every {@code vpsrlw}, an int shift as one
 * {@code vpsrld} with an immediate; the mask drops the bits the upper short pushed into the lower one
 * (1.35x on the Q4_0 decode kernel at 256 bits).
 * <li>A group's block sums as ints: the first half of the rows (the low halves of the int lanes)
 * {@code lanewise(LSHL, 16).lanewise(ASHR, 16)}, the second half {@code lanewise(ASHR, 16)}, both
 * sign-extended.
 * </ul>
 */
final class Int4LaneSums {
    /**
     * The shorts of the machine's preferred vector where it is 256 or 512 bits (else 256-bit, for which
     * {@link #supported()} is false and no kernel is built).
     */
    static final VectorSpecies<Short> S = supported() ? ShortVector.SPECIES_PREFERRED : ShortVector.SPECIES_256;
    /** Rows per group: the short lanes of {@link #S}. */
    static final int GROUP = S.length();
    /** Half a group: the int (and float) lanes of a vector, rows {@code 0 .. HALF - 1} and the rest. */
    static final int HALF = GROUP / 2;
    /** Bytes of one vector of a group: two bytes per row. */
    static final int LINE = 2 * GROUP;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Int4LaneSums() {
    }

    /**
     * Whether this machine's vectors are 256 or 512 bits, the widths the layouts are written for (a
     * q8_0 block of 32 activations is then whole vectors; wider SVE vectors would straddle blocks).
     */
    static boolean supported() {
        int shorts = ShortVector.SPECIES_PREFERRED.length();
        return shorts == 16 || shorts == 32;
    }

    /**
     * The short lane of row {@code r} of a group: the first half of the rows in the even lanes, the
     * second half in the odd ones, so that the low and high halves of the int lanes are the two halves
     * of the rows in order. Splitting a vector of shorts that way takes a shift or two; a shape-changing
     * {@code convert} (shorts to floats, part 0 and 1) was not compiled to vector code in the kernel and
     * ran in Java's fallback.
     */
    static int lane(int r) {
        return r < HALF ? 2 * r : 2 * (r - HALF) + 1;
    }

    /**
     * One token's sums of {@code nb} blocks (block b at byte {@code first + b * stride}; quants from
     * {@code xo}, quant sums from {@code so}) into {@code acc[GROUP b ..]} in lane order.
     */
    static void sums1(MemorySegment w, long first, long stride, int nb, short[] q, int xo, int[] sum, int so,
                      short[] acc) {
        // The block loop is written out here and in the Q4_0 kernel rather than shared through a method
        // returning a vector: where C2 does not inline such a method the vector is boxed on every block.
        for (int b = 0; b < nb; b++) {
            long p = first + stride * b;
            int xb = xo + 32 * b;
            // Two chains of adds, joined at the end of the block: one chain of 32 dependent adds per
            // block bounded the loop by their latency (1.14x with two at 256 bits; four spilled).
            // Integer sums wrap alike, so the join is the same exact sum.
            ShortVector a = ShortVector.broadcast(S, (short) (-8 * sum[so + b]));
            ShortVector odd = ShortVector.zero(S);
            for (int j = 0; j < 8; j++) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, p + (long) LINE * j, LE);
                int c = xb + 2 * j;
                // nibble()'s expressions written out: the Q4_K kernel inlines this loop beside its
                // scaling, C2 can run out of its per-compile node budget there, and a helper it then
                // leaves un-inlined boxes its vectors (NoAllocationTest caught it, in some runs only)
                IntVector vi = v.reinterpretAsInts();
                a = a.add(v.and((short) 0xF).mul(q[c]))
                        .add(vi.lanewise(VectorOperators.LSHR, 4).reinterpretAsShorts().and((short) 0xF).mul(q[c + 16]));
                odd = odd.add(vi.lanewise(VectorOperators.LSHR, 8).reinterpretAsShorts().and((short) 0xF).mul(q[c + 1]))
                        .add(vi.lanewise(VectorOperators.LSHR, 12).reinterpretAsShorts().and((short) 0xF).mul(q[c + 17]));
            }
            a.add(odd).intoArray(acc, GROUP * b);
        }
    }

    /**
     * Token 0's sums against two groups: block b of the first at
     * {@code first + stride * b}, of the second {@code other} bytes after it; the first group's sums
     * into {@code acc[GROUP b]}, the second's into {@code acc[GROUP (nb + b)]}. Each activation is
     * broadcast once for both groups' multiplies; the two groups are the two chains of adds.
     */
    static void sums2(MemorySegment w, long first, long other, long stride, int nb, short[] q, int[] sum, short[] acc) {
        for (int b = 0; b < nb; b++) {
            long p = first + stride * b;
            int xb = 32 * b;
            ShortVector a = ShortVector.broadcast(S, (short) (-8 * sum[b]));
            ShortVector e = a;
            for (int j = 0; j < 8; j++) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, p + (long) LINE * j, LE);
                ShortVector u = ShortVector.fromMemorySegment(S, w, p + other + (long) LINE * j, LE);
                IntVector vi = v.reinterpretAsInts();
                IntVector ui = u.reinterpretAsInts();
                int c = xb + 2 * j;
                ShortVector x0 = ShortVector.broadcast(S, q[c]);
                ShortVector x1 = ShortVector.broadcast(S, q[c + 16]);
                ShortVector x2 = ShortVector.broadcast(S, q[c + 1]);
                ShortVector x3 = ShortVector.broadcast(S, q[c + 17]);
                a = a.add(v.and((short) 0xF).mul(x0))
                        .add(vi.lanewise(VectorOperators.LSHR, 4).reinterpretAsShorts().and((short) 0xF).mul(x1))
                        .add(vi.lanewise(VectorOperators.LSHR, 8).reinterpretAsShorts().and((short) 0xF).mul(x2))
                        .add(vi.lanewise(VectorOperators.LSHR, 12).reinterpretAsShorts().and((short) 0xF).mul(x3));
                e = e.add(u.and((short) 0xF).mul(x0))
                        .add(ui.lanewise(VectorOperators.LSHR, 4).reinterpretAsShorts().and((short) 0xF).mul(x1))
                        .add(ui.lanewise(VectorOperators.LSHR, 8).reinterpretAsShorts().and((short) 0xF).mul(x2))
                        .add(ui.lanewise(VectorOperators.LSHR, 12).reinterpretAsShorts().and((short) 0xF).mul(x3));
            }
            a.intoArray(acc, GROUP * b);
            e.intoArray(acc, GROUP * (nb + b));
        }
    }

    /**
     * Four tokens (quants from {@code xo}, {@code xo + xs}, ...; quant sums from {@code so},
     * {@code so + ss}, ...) against {@code nb} blocks: token k's block b at {@code acc[GROUP (k nb + b)]}.
     * Each weight vector is loaded and split into nibbles once for the four tokens. The scaling is the
     * caller's, in another method: in one method with this loop, C2's inlining budget ran out and
     * boxed the vectors (~0.4x).
     */
    static void sums4(MemorySegment w, long first, long stride, int nb, short[] q, int xo, int xs, int[] sum,
                      int so, int ss, short[] acc) {
        for (int b = 0; b < nb; b++) {
            long p = first + stride * b;
            int xb = xo + 32 * b;
            int sb = so + b;
            ShortVector a0 = ShortVector.broadcast(S, (short) (-8 * sum[sb]));
            ShortVector a1 = ShortVector.broadcast(S, (short) (-8 * sum[sb + ss]));
            ShortVector a2 = ShortVector.broadcast(S, (short) (-8 * sum[sb + 2 * ss]));
            ShortVector a3 = ShortVector.broadcast(S, (short) (-8 * sum[sb + 3 * ss]));
            for (int j = 0; j < 8; j++) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, p + (long) LINE * j, LE);
                IntVector vi = v.reinterpretAsInts();
                ShortVector c0 = v.and((short) 0xF);
                ShortVector c1 = vi.lanewise(VectorOperators.LSHR, 4).reinterpretAsShorts().and((short) 0xF);
                ShortVector c2 = vi.lanewise(VectorOperators.LSHR, 8).reinterpretAsShorts().and((short) 0xF);
                ShortVector c3 = vi.lanewise(VectorOperators.LSHR, 12).reinterpretAsShorts().and((short) 0xF);
                int c = xb + 2 * j;
                a0 = a0.add(c0.mul(q[c])).add(c1.mul(q[c + 16])).add(c2.mul(q[c + 1])).add(c3.mul(q[c + 17]));
                c += xs;
                a1 = a1.add(c0.mul(q[c])).add(c1.mul(q[c + 16])).add(c2.mul(q[c + 1])).add(c3.mul(q[c + 17]));
                c += xs;
                a2 = a2.add(c0.mul(q[c])).add(c1.mul(q[c + 16])).add(c2.mul(q[c + 1])).add(c3.mul(q[c + 17]));
                c += xs;
                a3 = a3.add(c0.mul(q[c])).add(c1.mul(q[c + 16])).add(c2.mul(q[c + 1])).add(c3.mul(q[c + 17]));
            }
            a0.intoArray(acc, GROUP * b);
            a1.intoArray(acc, GROUP * (nb + b));
            a2.intoArray(acc, GROUP * (2 * nb + b));
            a3.intoArray(acc, GROUP * (3 * nb + b));
        }
    }

    /**
     * {@link #sums4} for two groups (block b of the first at {@code first + stride * b},
     * of the second {@code other} bytes after it): token k's sums of the first group at
     * {@code acc[GROUP (k nb + b)]}, of the second at {@code acc[GROUP ((4 + k) nb + b)]}. Each activation
     * broadcast feeds both groups' multiplies; each column's nibbles are split just before their four
     * tokens, so eight accumulators, two nibble vectors and the broadcast fit AVX2's 16 registers.
     */
    static void sums4x2(MemorySegment w, long first, long other, long stride, int nb, short[] q, int xo, int xs,
                        int[] sum, int so, int ss, short[] acc) {
        for (int b = 0; b < nb; b++) {
            long p = first + stride * b;
            int xb = xo + 32 * b;
            int sb = so + b;
            ShortVector a0 = ShortVector.broadcast(S, (short) (-8 * sum[sb]));
            ShortVector a1 = ShortVector.broadcast(S, (short) (-8 * sum[sb + ss]));
            ShortVector a2 = ShortVector.broadcast(S, (short) (-8 * sum[sb + 2 * ss]));
            ShortVector a3 = ShortVector.broadcast(S, (short) (-8 * sum[sb + 3 * ss]));
            ShortVector e0 = a0;
            ShortVector e1 = a1;
            ShortVector e2 = a2;
            ShortVector e3 = a3;
            for (int j = 0; j < 8; j++) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, p + (long) LINE * j, LE);
                ShortVector u = ShortVector.fromMemorySegment(S, w, p + other + (long) LINE * j, LE);
                IntVector vi = v.reinterpretAsInts();
                IntVector ui = u.reinterpretAsInts();
                int c = xb + 2 * j;
                // the four nibbles written out, each split just before its four tokens (a loop over them
                // compiled to a loop with a variable shift count, a jump table for the column and a bounds
                // check per broadcast)
                ShortVector cv = v.and((short) 0xF);
                ShortVector cu = u.and((short) 0xF);
                ShortVector x = ShortVector.broadcast(S, q[c]);
                a0 = a0.add(cv.mul(x));
                e0 = e0.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + xs]);
                a1 = a1.add(cv.mul(x));
                e1 = e1.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 2 * xs]);
                a2 = a2.add(cv.mul(x));
                e2 = e2.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 3 * xs]);
                a3 = a3.add(cv.mul(x));
                e3 = e3.add(cu.mul(x));
                cv = vi.lanewise(VectorOperators.LSHR, 4).reinterpretAsShorts().and((short) 0xF);
                cu = ui.lanewise(VectorOperators.LSHR, 4).reinterpretAsShorts().and((short) 0xF);
                x = ShortVector.broadcast(S, q[c + 16]);
                a0 = a0.add(cv.mul(x));
                e0 = e0.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 16 + xs]);
                a1 = a1.add(cv.mul(x));
                e1 = e1.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 16 + 2 * xs]);
                a2 = a2.add(cv.mul(x));
                e2 = e2.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 16 + 3 * xs]);
                a3 = a3.add(cv.mul(x));
                e3 = e3.add(cu.mul(x));
                cv = vi.lanewise(VectorOperators.LSHR, 8).reinterpretAsShorts().and((short) 0xF);
                cu = ui.lanewise(VectorOperators.LSHR, 8).reinterpretAsShorts().and((short) 0xF);
                x = ShortVector.broadcast(S, q[c + 1]);
                a0 = a0.add(cv.mul(x));
                e0 = e0.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 1 + xs]);
                a1 = a1.add(cv.mul(x));
                e1 = e1.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 1 + 2 * xs]);
                a2 = a2.add(cv.mul(x));
                e2 = e2.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 1 + 3 * xs]);
                a3 = a3.add(cv.mul(x));
                e3 = e3.add(cu.mul(x));
                cv = vi.lanewise(VectorOperators.LSHR, 12).reinterpretAsShorts().and((short) 0xF);
                cu = ui.lanewise(VectorOperators.LSHR, 12).reinterpretAsShorts().and((short) 0xF);
                x = ShortVector.broadcast(S, q[c + 17]);
                a0 = a0.add(cv.mul(x));
                e0 = e0.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 17 + xs]);
                a1 = a1.add(cv.mul(x));
                e1 = e1.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 17 + 2 * xs]);
                a2 = a2.add(cv.mul(x));
                e2 = e2.add(cu.mul(x));
                x = ShortVector.broadcast(S, q[c + 17 + 3 * xs]);
                a3 = a3.add(cv.mul(x));
                e3 = e3.add(cu.mul(x));
            }
            a0.intoArray(acc, GROUP * b);
            a1.intoArray(acc, GROUP * (nb + b));
            a2.intoArray(acc, GROUP * (2 * nb + b));
            a3.intoArray(acc, GROUP * (3 * nb + b));
            e0.intoArray(acc, GROUP * (4 * nb + b));
            e1.intoArray(acc, GROUP * (5 * nb + b));
            e2.intoArray(acc, GROUP * (6 * nb + b));
            e3.intoArray(acc, GROUP * (7 * nb + b));
        }
    }
}
