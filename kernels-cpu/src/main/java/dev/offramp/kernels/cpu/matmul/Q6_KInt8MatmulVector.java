package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q6_K against {@code q8_K} int8 activations on 256- or 512-bit vectors, a group of rows per vector
 * ({@link Q6_KInt8MatmulScalar}'s bits, llama.cpp's integer arithmetic).
 *
 * <p>The weights are repacked as signed bytes {@code q - 32}, two columns per 16-bit lane (row r in
 * lane {@link Int4LaneSums#lane lane(r)}): one shift pair splits a vector into two columns of a group's
 * rows, each times one broadcast activation. A product is at most 32 * 127 = 4064 in magnitude, so a 16-bit
 * lane holds the exact sum of 8 of them: each 16-value sub-block has two short accumulators, added in
 * 32-bit lanes with its int8 scale ({@code |isum| < 2^28}), and a super-block is scaled once in float.
 *
 * <p>Repacked layout, per group of {@code GROUP} rows (32 at 512 bits): the quants of all super-blocks
 * (16 sub-blocks x 8 vectors), then per super-block {@code d} as floats and the scales as
 * {@code 16 x GROUP} bytes: 8832 bytes per 32 x 256 weights where ggml's blocks take 6720 (+31%: whole
 * bytes instead of 6-bit fields, for about half the operations per weight of unpacking ql/qh bits in
 * the loop). At 256 bits two groups are read together, as two streams ({@link Int8RowGroupKernel}).
 *
 * <pre>{@code
 * MatmulKernel k = Q6_KInt8MatmulVector.forWeight(tensor.data(), tensor.rows(), (int) tensor.cols());
 * }</pre>
 */
public final class Q6_KInt8MatmulVector extends Int8RowGroupKernel {
    /** Repacked quant bytes per group and super-block: 16 sub-blocks of eight vectors. */
    private static final int QUANT_BYTES = 128 * LINE;
    /** Repacked scale bytes per group and super-block: d (floats), 16 scales (bytes). */
    private static final int SCALE_BYTES = 20 * GROUP;
    /** Repacked quant bytes per group and 16-value sub-block: eight vectors. */
    private static final int SUB_BYTES = 8 * LINE;
    /** Bytes from one of a group's sub-blocks to its next. */
    private static final long STRIDE = SUB_BYTES;
    private static final Q6_KInt8MatmulScalar SCALAR = new Q6_KInt8MatmulScalar();

    private Q6_KInt8MatmulVector(MemorySegment source, MemorySegment packed, long rows, int cols) {
        super(DType.Q6_K, Int8Scheme.Q8_K, SCALAR, source, packed, rows, cols);
    }

    /**
     * The kernel for the one Q6_K weight {@code w} ({@code rows} x {@code cols}), repacked here; null
     * when the machine's vectors are not 256 or 512 bits. Called with another segment, the kernel
     * computes with {@link Q6_KInt8MatmulScalar} (same bits).
     */
    public static Q6_KInt8MatmulVector forWeight(MemorySegment w, long rows, int cols) {
        if (!accepts(DType.Q6_K, w, rows, cols)) {
            return null;
        }
        int ns = cols / 256;
        long groups = groups(rows);
        long groupBytes = (long) ns * (QUANT_BYTES + SCALE_BYTES);
        MemorySegment p = allocate(groups, groupBytes);
        // A group's rows are read into the heap in one copy each and its super-blocks written out whole
        int rowBytes = 210 * ns;
        repackGroups(w, groups, () -> {
            byte[] stage = new byte[GROUP * rowBytes];
            MemorySegment stageSegment = MemorySegment.ofArray(stage);
            short[] quants = new short[QUANT_BYTES / 2];
            byte[] scales = new byte[SCALE_BYTES];
            MemorySegment scaleSegment = MemorySegment.ofArray(scales);
            return g -> {
                long quantsAt = quantsAt(g, ns);
                long scalesAt = scalesAt(g, ns);
                int real = stageRows(w, rows, rowBytes, g, stage);
                for (int s = 0; s < ns; s++) {
                    // rows past the end: zero weights with zero scales
                    java.util.Arrays.fill(quants, (short) 0);
                    java.util.Arrays.fill(scales, (byte) 0);
                    for (int r = 0; r < real; r++) {
                        int blk = r * rowBytes + 210 * s;
                        int lane = Int4LaneSums.lane(r);
                        for (int v = 0; v < 256; v += 2) {
                            int a = quant(stage, blk, v) - 32;
                            int b = quant(stage, blk, v + 1) - 32;
                            // value v is sub-block v / 16, vector (v % 16) / 2 of it
                            quants[GROUP * (v >>> 1) + lane] = (short) ((a & 0xFF) | b << 8);
                        }
                        scaleSegment.set(F32, 4L * r, QuantMatmulScalar.half(stageSegment, blk + 208));
                        for (int j = 0; j < 16; j++) {
                            scales[4 * GROUP + GROUP * j + r] = stage[blk + 192 + j];
                        }
                    }
                    for (int j = 0; j < 16; j++) {
                        MemorySegment.copy(quants, 8 * GROUP * j, p, I16, quantsAt + STRIDE * (16 * s + j), 8 * GROUP);
                    }
                    MemorySegment.copy(scales, 0, p, ValueLayout.JAVA_BYTE, scalesAt + (long) SCALE_BYTES * s, SCALE_BYTES);
                }
            };
        });
        return new Q6_KInt8MatmulVector(w, p, rows, cols);
    }

    /** {@link Q6_KInt8MatmulScalar#quant} on a heap copy (load-time code runs cold: plain arrays are faster there). */
    private static int quant(byte[] blk, int at, int v) {
        int h = v >>> 7;
        int k = (v >>> 5) & 3;
        int l = v & 31;
        int lo = ((blk[at + 64 * h + 32 * (k & 1) + l] & 0xFF) >>> (4 * (k >>> 1))) & 0xF;
        int hi = ((blk[at + 128 + 32 * h + l] & 0xFF) >>> (2 * k)) & 3;
        return lo | hi << 4;
    }

    /** Where group {@code g}'s first sub-block of quants starts. */
    private static long quantsAt(long g, int ns) {
        return g * ns * (long) (QUANT_BYTES + SCALE_BYTES);
    }

    /** Where group {@code g}'s scales start, after its quants. */
    private static long scalesAt(long g, int ns) {
        return quantsAt(g, ns) + (long) QUANT_BYTES * ns;
    }

    @Override
    void oneToken(int g, Int8Activations x, int t, float[] dst, int o, Scratch s) {
        int ns = cols / 256;
        short[] acc = s.sums(2 * GROUP * (cols / 16));
        sums1(packed, quantsAt(g, ns), cols / 16, x.quants(), t * cols, acc);
        finish(packed, scalesAt(g, ns), ns, acc, 0, x.scales(), t * ns, dst, o);
    }

    @Override
    void oneTokenTwoGroups(int g, Int8Activations x, float[] dst, int o, Scratch s) {
        int ns = cols / 256;
        int nsub = cols / 16;
        short[] acc = s.sums(4 * GROUP * nsub);
        sums2(packed, quantsAt(g, ns), (long) ns * (QUANT_BYTES + SCALE_BYTES), nsub, x.quants(), acc);
        finish(packed, scalesAt(g, ns), ns, acc, 0, x.scales(), 0, dst, o);
        finish(packed, scalesAt(g + 1, ns), ns, acc, 2 * GROUP * nsub, x.scales(), 0, dst, o + GROUP);
    }

    @Override
    void fourTokensTwoGroups(int g, Int8Activations x, int t, Scratch s) {
        int ns = cols / 256;
        int nsub = cols / 16;
        short[] acc = s.sums(8 * 2 * GROUP * nsub);
        sums4x2(packed, quantsAt(g, ns), (long) ns * (QUANT_BYTES + SCALE_BYTES), nsub, x.quants(), t * cols, cols, acc);
        for (int h = 0; h < 2; h++) {
            long scales = scalesAt(g + h, ns);
            for (int k = 0; k < 4; k++) {
                finish(packed, scales, ns, acc, 2 * GROUP * (4 * h + k) * nsub, x.scales(), (t + k) * ns, s.tile,
                        4 * GROUP * h + GROUP * k);
            }
        }
    }

    @Override
    void fourTokens(int g, Int8Activations x, int t, Scratch s) {
        int ns = cols / 256;
        int nsub = cols / 16;
        short[] acc = s.sums(4 * 2 * GROUP * nsub);
        sums4(packed, quantsAt(g, ns), nsub, x.quants(), t * cols, cols, acc);
        long scales = scalesAt(g, ns);
        for (int k = 0; k < 4; k++) {
            finish(packed, scales, ns, acc, 2 * GROUP * k * nsub, x.scales(), (t + k) * ns, s.tile, GROUP * k);
        }
    }

    /**
     * One token's sub-block sums: sub-block j's columns 0-7 into {@code acc[2 GROUP j]}, 8-15 into
     * {@code acc[2 GROUP j + GROUP]} (lane order), each exact in 16 bits.
     */
    private static void sums1(MemorySegment w, long base, int nsub, short[] q, int xo, short[] acc) {
        for (int j = 0; j < nsub; j++) {
            long p = base + STRIDE * j;
            int c = xo + 16 * j;
            ShortVector a = ShortVector.zero(S);
            ShortVector b = a;
            for (int k = 0; k < 4; k++) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, p + (long) LINE * k, LE);
                ShortVector u = ShortVector.fromMemorySegment(S, w, p + 4L * LINE + (long) LINE * k, LE);
                a = a.add(v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(q[c + 2 * k]))
                        .add(v.lanewise(VectorOperators.ASHR, 8).mul(q[c + 2 * k + 1]));
                b = b.add(u.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(q[c + 8 + 2 * k]))
                        .add(u.lanewise(VectorOperators.ASHR, 8).mul(q[c + 9 + 2 * k]));
            }
            a.intoArray(acc, 2 * GROUP * j);
            b.intoArray(acc, 2 * GROUP * j + GROUP);
        }
    }

    /**
     * {@link #sums1} for two groups (the second {@code other} bytes after the first): the first group's sums as there, the second's from
     * {@code acc[2 GROUP nsub]}; each activation broadcast once for both groups' multiplies.
     */
    private static void sums2(MemorySegment w, long base, long other, int nsub, short[] q, short[] acc) {
        for (int j = 0; j < nsub; j++) {
            long p = base + STRIDE * j;
            int c = 16 * j;
            for (int half = 0; half < 2; half++) {
                long at = p + 4L * LINE * half;
                int e = c + 8 * half;
                // the k loop written out (as in sums4x2: C2 kept it a loop)
                ShortVector v = ShortVector.fromMemorySegment(S, w, at, LE);
                ShortVector u = ShortVector.fromMemorySegment(S, w, at + other, LE);
                ShortVector x0 = ShortVector.broadcast(S, q[e]);
                ShortVector x1 = ShortVector.broadcast(S, q[e + 1]);
                ShortVector a = v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(x0)
                        .add(v.lanewise(VectorOperators.ASHR, 8).mul(x1));
                ShortVector g = u.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(x0)
                        .add(u.lanewise(VectorOperators.ASHR, 8).mul(x1));
                v = ShortVector.fromMemorySegment(S, w, at + LINE, LE);
                u = ShortVector.fromMemorySegment(S, w, at + LINE + other, LE);
                x0 = ShortVector.broadcast(S, q[e + 2]);
                x1 = ShortVector.broadcast(S, q[e + 3]);
                a = a.add(v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(x0))
                        .add(v.lanewise(VectorOperators.ASHR, 8).mul(x1));
                g = g.add(u.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(x0))
                        .add(u.lanewise(VectorOperators.ASHR, 8).mul(x1));
                v = ShortVector.fromMemorySegment(S, w, at + 2L * LINE, LE);
                u = ShortVector.fromMemorySegment(S, w, at + 2L * LINE + other, LE);
                x0 = ShortVector.broadcast(S, q[e + 4]);
                x1 = ShortVector.broadcast(S, q[e + 5]);
                a = a.add(v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(x0))
                        .add(v.lanewise(VectorOperators.ASHR, 8).mul(x1));
                g = g.add(u.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(x0))
                        .add(u.lanewise(VectorOperators.ASHR, 8).mul(x1));
                v = ShortVector.fromMemorySegment(S, w, at + 3L * LINE, LE);
                u = ShortVector.fromMemorySegment(S, w, at + 3L * LINE + other, LE);
                x0 = ShortVector.broadcast(S, q[e + 6]);
                x1 = ShortVector.broadcast(S, q[e + 7]);
                a = a.add(v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(x0))
                        .add(v.lanewise(VectorOperators.ASHR, 8).mul(x1));
                g = g.add(u.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(x0))
                        .add(u.lanewise(VectorOperators.ASHR, 8).mul(x1));
                a.intoArray(acc, 2 * GROUP * j + GROUP * half);
                g.intoArray(acc, 2 * GROUP * (nsub + j) + GROUP * half);
            }
        }
    }

    /** {@link #sums1} for four tokens (quants {@code xs} apart): token k's sums from {@code acc[2 GROUP (k nsub + j)]}. */
    private static void sums4(MemorySegment w, long base, int nsub, short[] q, int xo, int xs, short[] acc) {
        for (int j = 0; j < nsub; j++) {
            long p = base + STRIDE * j;
            for (int half = 0; half < 2; half++) {
                int c = xo + 16 * j + 8 * half;
                ShortVector a0 = ShortVector.zero(S);
                ShortVector a1 = a0;
                ShortVector a2 = a0;
                ShortVector a3 = a0;
                for (int k = 0; k < 4; k++) {
                    ShortVector v = ShortVector.fromMemorySegment(S, w, p + 4L * LINE * half + (long) LINE * k, LE);
                    ShortVector lo = v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                    ShortVector hi = v.lanewise(VectorOperators.ASHR, 8);
                    int e = c + 2 * k;
                    a0 = a0.add(lo.mul(q[e])).add(hi.mul(q[e + 1]));
                    e += xs;
                    a1 = a1.add(lo.mul(q[e])).add(hi.mul(q[e + 1]));
                    e += xs;
                    a2 = a2.add(lo.mul(q[e])).add(hi.mul(q[e + 1]));
                    e += xs;
                    a3 = a3.add(lo.mul(q[e])).add(hi.mul(q[e + 1]));
                }
                int o = 2 * GROUP * j + GROUP * half;
                a0.intoArray(acc, o);
                a1.intoArray(acc, o + 2 * GROUP * nsub);
                a2.intoArray(acc, o + 4 * GROUP * nsub);
                a3.intoArray(acc, o + 6 * GROUP * nsub);
            }
        }
    }

    /**
     * {@link #sums4} for two groups (the second {@code other} bytes after the first): token k's sums of the first group as there, of the
     * second from {@code acc[2 GROUP (4 + k) nsub]}; each activation broadcast feeds both groups'
     * multiplies (eight accumulators, four split columns and two broadcasts: 14 of AVX2's registers).
     */
    private static void sums4x2(MemorySegment w, long base, long other, int nsub, short[] q, int xo, int xs, short[] acc) {
        for (int j = 0; j < nsub; j++) {
            long p = base + STRIDE * j;
            for (int half = 0; half < 2; half++) {
                int c = xo + 16 * j + 8 * half;
                ShortVector a0 = ShortVector.zero(S);
                ShortVector a1 = a0;
                ShortVector a2 = a0;
                ShortVector a3 = a0;
                ShortVector e0 = a0;
                ShortVector e1 = a0;
                ShortVector e2 = a0;
                ShortVector e3 = a0;
                // the k loop written out: C2 kept it a loop (hsdis, AVX2); written out, 1.2x in the kernel
                // probe (64 tokens, from L2/L3), as for Int4LaneSums.sums4x2
                long at0 = p + 4L * LINE * half;
                ShortVector v0 = ShortVector.fromMemorySegment(S, w, at0, LE);
                ShortVector u0 = ShortVector.fromMemorySegment(S, w, at0 + other, LE);
                ShortVector vl0 = v0.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector vh0 = v0.lanewise(VectorOperators.ASHR, 8);
                ShortVector ul0 = u0.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector uh0 = u0.lanewise(VectorOperators.ASHR, 8);
                int i0 = c;
                ShortVector x00 = ShortVector.broadcast(S, q[i0]);
                ShortVector x10 = ShortVector.broadcast(S, q[i0 + 1]);
                a0 = a0.add(vl0.mul(x00)).add(vh0.mul(x10));
                e0 = e0.add(ul0.mul(x00)).add(uh0.mul(x10));
                i0 += xs;
                x00 = ShortVector.broadcast(S, q[i0]);
                x10 = ShortVector.broadcast(S, q[i0 + 1]);
                a1 = a1.add(vl0.mul(x00)).add(vh0.mul(x10));
                e1 = e1.add(ul0.mul(x00)).add(uh0.mul(x10));
                i0 += xs;
                x00 = ShortVector.broadcast(S, q[i0]);
                x10 = ShortVector.broadcast(S, q[i0 + 1]);
                a2 = a2.add(vl0.mul(x00)).add(vh0.mul(x10));
                e2 = e2.add(ul0.mul(x00)).add(uh0.mul(x10));
                i0 += xs;
                x00 = ShortVector.broadcast(S, q[i0]);
                x10 = ShortVector.broadcast(S, q[i0 + 1]);
                a3 = a3.add(vl0.mul(x00)).add(vh0.mul(x10));
                e3 = e3.add(ul0.mul(x00)).add(uh0.mul(x10));
                long at1 = p + 4L * LINE * half + 1L * LINE;
                ShortVector v1 = ShortVector.fromMemorySegment(S, w, at1, LE);
                ShortVector u1 = ShortVector.fromMemorySegment(S, w, at1 + other, LE);
                ShortVector vl1 = v1.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector vh1 = v1.lanewise(VectorOperators.ASHR, 8);
                ShortVector ul1 = u1.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector uh1 = u1.lanewise(VectorOperators.ASHR, 8);
                int i1 = c + 2;
                ShortVector x01 = ShortVector.broadcast(S, q[i1]);
                ShortVector x11 = ShortVector.broadcast(S, q[i1 + 1]);
                a0 = a0.add(vl1.mul(x01)).add(vh1.mul(x11));
                e0 = e0.add(ul1.mul(x01)).add(uh1.mul(x11));
                i1 += xs;
                x01 = ShortVector.broadcast(S, q[i1]);
                x11 = ShortVector.broadcast(S, q[i1 + 1]);
                a1 = a1.add(vl1.mul(x01)).add(vh1.mul(x11));
                e1 = e1.add(ul1.mul(x01)).add(uh1.mul(x11));
                i1 += xs;
                x01 = ShortVector.broadcast(S, q[i1]);
                x11 = ShortVector.broadcast(S, q[i1 + 1]);
                a2 = a2.add(vl1.mul(x01)).add(vh1.mul(x11));
                e2 = e2.add(ul1.mul(x01)).add(uh1.mul(x11));
                i1 += xs;
                x01 = ShortVector.broadcast(S, q[i1]);
                x11 = ShortVector.broadcast(S, q[i1 + 1]);
                a3 = a3.add(vl1.mul(x01)).add(vh1.mul(x11));
                e3 = e3.add(ul1.mul(x01)).add(uh1.mul(x11));
                long at2 = p + 4L * LINE * half + 2L * LINE;
                ShortVector v2 = ShortVector.fromMemorySegment(S, w, at2, LE);
                ShortVector u2 = ShortVector.fromMemorySegment(S, w, at2 + other, LE);
                ShortVector vl2 = v2.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector vh2 = v2.lanewise(VectorOperators.ASHR, 8);
                ShortVector ul2 = u2.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector uh2 = u2.lanewise(VectorOperators.ASHR, 8);
                int i2 = c + 4;
                ShortVector x02 = ShortVector.broadcast(S, q[i2]);
                ShortVector x12 = ShortVector.broadcast(S, q[i2 + 1]);
                a0 = a0.add(vl2.mul(x02)).add(vh2.mul(x12));
                e0 = e0.add(ul2.mul(x02)).add(uh2.mul(x12));
                i2 += xs;
                x02 = ShortVector.broadcast(S, q[i2]);
                x12 = ShortVector.broadcast(S, q[i2 + 1]);
                a1 = a1.add(vl2.mul(x02)).add(vh2.mul(x12));
                e1 = e1.add(ul2.mul(x02)).add(uh2.mul(x12));
                i2 += xs;
                x02 = ShortVector.broadcast(S, q[i2]);
                x12 = ShortVector.broadcast(S, q[i2 + 1]);
                a2 = a2.add(vl2.mul(x02)).add(vh2.mul(x12));
                e2 = e2.add(ul2.mul(x02)).add(uh2.mul(x12));
                i2 += xs;
                x02 = ShortVector.broadcast(S, q[i2]);
                x12 = ShortVector.broadcast(S, q[i2 + 1]);
                a3 = a3.add(vl2.mul(x02)).add(vh2.mul(x12));
                e3 = e3.add(ul2.mul(x02)).add(uh2.mul(x12));
                long at3 = p + 4L * LINE * half + 3L * LINE;
                ShortVector v3 = ShortVector.fromMemorySegment(S, w, at3, LE);
                ShortVector u3 = ShortVector.fromMemorySegment(S, w, at3 + other, LE);
                ShortVector vl3 = v3.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector vh3 = v3.lanewise(VectorOperators.ASHR, 8);
                ShortVector ul3 = u3.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector uh3 = u3.lanewise(VectorOperators.ASHR, 8);
                int i3 = c + 6;
                ShortVector x03 = ShortVector.broadcast(S, q[i3]);
                ShortVector x13 = ShortVector.broadcast(S, q[i3 + 1]);
                a0 = a0.add(vl3.mul(x03)).add(vh3.mul(x13));
                e0 = e0.add(ul3.mul(x03)).add(uh3.mul(x13));
                i3 += xs;
                x03 = ShortVector.broadcast(S, q[i3]);
                x13 = ShortVector.broadcast(S, q[i3 + 1]);
                a1 = a1.add(vl3.mul(x03)).add(vh3.mul(x13));
                e1 = e1.add(ul3.mul(x03)).add(uh3.mul(x13));
                i3 += xs;
                x03 = ShortVector.broadcast(S, q[i3]);
                x13 = ShortVector.broadcast(S, q[i3 + 1]);
                a2 = a2.add(vl3.mul(x03)).add(vh3.mul(x13));
                e2 = e2.add(ul3.mul(x03)).add(uh3.mul(x13));
                i3 += xs;
                x03 = ShortVector.broadcast(S, q[i3]);
                x13 = ShortVector.broadcast(S, q[i3 + 1]);
                a3 = a3.add(vl3.mul(x03)).add(vh3.mul(x13));
                e3 = e3.add(ul3.mul(x03)).add(uh3.mul(x13));
                int o = 2 * GROUP * j + GROUP * half;
                int group = 2 * GROUP * nsub;
                a0.intoArray(acc, o);
                a1.intoArray(acc, o + group);
                a2.intoArray(acc, o + 2 * group);
                a3.intoArray(acc, o + 3 * group);
                e0.intoArray(acc, o + 4 * group);
                e1.intoArray(acc, o + 5 * group);
                e2.intoArray(acc, o + 6 * group);
                e3.intoArray(acc, o + 7 * group);
            }
        }
    }

    /** One token's sums ({@code acc[ao ..]}) times the sub-block scales, per super-block in float, into {@code dst[o ..]}. */
    private static void finish(MemorySegment w, long sp0, int ns, short[] acc, int ao, float[] d, int dso,
                               float[] dst, int o) {
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        for (int s = 0; s < ns; s++) {
            long sp = sp0 + (long) SCALE_BYTES * s;
            IntVector i0 = IntVector.zero(I);
            IntVector i1 = i0;
            for (int j = 0; j < 16; j++) {
                int at = ao + 2 * GROUP * (16 * s + j);
                // Int4LaneSums.lowInts/highInts and signedBytes written out: a helper returning a vector
                // that C2 leaves un-inlined boxes on every call (Q4_0Int8MatmulVector.finish1)
                IntVector a = ShortVector.fromArray(S, acc, at).reinterpretAsInts();
                IntVector b = ShortVector.fromArray(S, acc, at + GROUP).reinterpretAsInts();
                long sc = sp + 4L * GROUP + (long) GROUP * j;
                IntVector sc0 = (IntVector) ByteVector.fromMemorySegment(B, w, sc, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector sc1 = (IntVector) ByteVector.fromMemorySegment(B, w, sc + HALF, LE).convertShape(VectorOperators.B2I, I, 0);
                i0 = i0.add(a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(b.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(sc0));
                i1 = i1.add(a.lanewise(VectorOperators.ASHR, 16).add(b.lanewise(VectorOperators.ASHR, 16)).mul(sc1));
            }
            float dx = d[dso + s];
            f0 = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp, LE).mul(dx), f0);
            f1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp + 2L * GROUP, LE).mul(dx), f1);
        }
        f0.intoArray(dst, o);
        f1.intoArray(dst, o + HALF);
    }
}
