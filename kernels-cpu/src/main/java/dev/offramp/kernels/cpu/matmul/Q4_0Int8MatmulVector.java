package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_0 against int8 activations on 256- or 512-bit vectors, with a group of rows in the short lanes
 * of a vector (llama.cpp's arithmetic, {@link Q4_0Int8MatmulScalar}'s bits).
 *
 * <p>Why: the Vector API has no int8 dot product ({@code vpdpbusd}), and with the products of one row
 * in the lanes every block needs a horizontal sum (a permute tree measured 0.92x of the float kernel).
 * With one row per lane, a column is one broadcast activation times a vector of weights, and the
 * 16-bit lanes hold a whole block's sum exactly (|sum (q - 8) xq| <= 32 * 8 * 127 = 32512). Per vector
 * of four columns that is one load, six shifts/ands, four {@code vpmullw} and four adds, where the float
 * kernel needs about ten operations per 16 weights; the block sums are converted and scaled once per
 * block and group.
 *
 * <p>The weight is repacked once ({@link #forWeight}) into groups of {@code GROUP} rows (32 at 512
 * bits), {@code 20 GROUP} bytes per group and block (640): the scales as floats (rows in order), then
 * eight vectors whose lanes hold bytes {@code 2j, 2j + 1} of each row's quants (nibbles = columns 2j, 2j + 16, 2j + 1, 2j + 17), rows in the
 * lane order of {@link Int4LaneSums#lane}. Float scales cost 11% more bytes than ggml's f16 (576 per
 * 32 blocks) but need no widening: f16 scales widened in the loop (exact for finite halves only)
 * measured 0.9x at 512 bits, and widened in a pass of their own before each group, 0.75x. The rows
 * past the last full group are zero weights; a group's blocks are contiguous, and at 256 bits two
 * groups are read together as two streams ({@link Int8RowGroupKernel}). Integer sums are exact, so the order in which a block's columns are
 * added does not matter; each (row, token) then gets the scalar twin's chain of FMAs, block after
 * block, so batch, row split and lane layout change no bit.
 *
 * <pre>{@code
 * MatmulKernel k = Q4_0Int8MatmulVector.forWeight(tensor.data(), tensor.rows(), (int) tensor.cols());
 * if (k != null) k.matmul(tensor.data(), cols, x, cols, 1, out, rows, 0, rows);
 * }</pre>
 */
public final class Q4_0Int8MatmulVector extends Int8RowGroupKernel {
    /** Repacked bytes per group and block: the rows' float scales, then eight vectors of quants. */
    static final int GROUP_BLOCK_BYTES = 4 * GROUP + 8 * LINE;
    /** Where a group-block's quants start, after its rows' float scales. */
    private static final int QUANTS = 4 * GROUP;
    /** Where the scales of a group's second half of rows start (rows {@code HALF ..}). */
    private static final int SECOND_HALF_SCALES = 4 * HALF;
    /** Bytes from one of a group's blocks to its next. */
    private static final long STRIDE = GROUP_BLOCK_BYTES;
    private static final Q4_0Int8MatmulScalar SCALAR = new Q4_0Int8MatmulScalar();

    private Q4_0Int8MatmulVector(MemorySegment source, MemorySegment packed, long rows, int cols) {
        super(DType.Q4_0, Int8Scheme.Q8_0, SCALAR, source, packed, rows, cols);
    }

    /**
     * The kernel for the one Q4_0 weight {@code w} ({@code rows} x {@code cols}), repacked here; null
     * when the machine's vectors are not 256 or 512 bits, so the caller keeps the float kernel. Called
     * with another segment, the kernel computes with {@link Q4_0Int8MatmulScalar} (same bits).
     */
    public static Q4_0Int8MatmulVector forWeight(MemorySegment w, long rows, int cols) {
        if (!accepts(DType.Q4_0, w, rows, cols)) {
            return null;
        }
        int nb = cols / 32;
        long groups = groups(rows);
        MemorySegment p = allocate(groups, (long) nb * GROUP_BLOCK_BYTES);
        // A group's rows are read into the heap in one copy each and its blocks written out whole:
        // segment accesses a value at a time were most of the model's load time.
        int rowBytes = 18 * nb;
        repackGroups(w, groups, () -> {
            byte[] stage = new byte[GROUP * rowBytes];
            short[] staged = new short[GROUP_BLOCK_BYTES / 2];
            MemorySegment stagedSegment = MemorySegment.ofArray(staged);
            return g -> {
                int real = stageRows(w, rows, rowBytes, g, stage);
                for (int b = 0; b < nb; b++) {
                    // rows past the end: q = 8 and scale 0, a zero weight whose sums stay in range
                    java.util.Arrays.fill(staged, 0, QUANTS / 2, (short) 0);
                    java.util.Arrays.fill(staged, QUANTS / 2, staged.length, (short) 0x8888);
                    for (int r = 0; r < real; r++) {
                        int blk = r * rowBytes + 18 * b;
                        int lane = Int4LaneSums.lane(r);
                        for (int j = 0; j < 8; j++) {
                            staged[QUANTS / 2 + GROUP * j + lane] = (short) ((stage[blk + 2 + 2 * j] & 0xFF) | (stage[blk + 3 + 2 * j] & 0xFF) << 8);
                        }
                        stagedSegment.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * r,
                                Float.float16ToFloat((short) ((stage[blk] & 0xFF) | stage[blk + 1] << 8)));
                    }
                    MemorySegment.copy(staged, 0, p, I16, first(g, nb) + STRIDE * b, staged.length);
                }
            };
        });
        return new Q4_0Int8MatmulVector(w, p, rows, cols);
    }

    /** Where group {@code g}'s first block starts. */
    private static long first(long g, int nb) {
        return g * nb * (long) GROUP_BLOCK_BYTES;
    }

    @Override
    void oneToken(int g, Int8Activations x, int t, float[] dst, int o, Scratch s) {
        int nb = cols / 32;
        group1(packed, first(g, nb), nb, x.quants(), t * cols, x.scales(), x.sums(), t * nb, dst, o);
    }

    @Override
    void oneTokenTwoGroups(int g, Int8Activations x, float[] dst, int o, Scratch s) {
        int nb = cols / 32;
        long base = first(g, nb);
        short[] sums = s.sums(2 * GROUP * nb);
        long other = (long) nb * GROUP_BLOCK_BYTES;
        Int4LaneSums.sums2(packed, base + QUANTS, other, STRIDE, nb, x.quants(), x.sums(), sums);
        finish1(packed, base, sums, 0, nb, x.scales(), 0, dst, o);
        finish1(packed, base + other, sums, GROUP * nb, nb, x.scales(), 0, dst, o + GROUP);
    }

    @Override
    void fourTokensTwoGroups(int g, Int8Activations x, int t, Scratch s) {
        int nb = cols / 32;
        long base = first(g, nb);
        short[] sums = s.sums(8 * GROUP * nb);
        long other = (long) nb * GROUP_BLOCK_BYTES;
        Int4LaneSums.sums4x2(packed, base + QUANTS, other, STRIDE, nb, x.quants(), t * cols, cols, x.sums(),
                t * nb, nb, sums);
        finish4(packed, base, sums, 0, nb, x.scales(), t * nb, nb, s.tile, 0);
        finish4(packed, base + other, sums, 4 * GROUP * nb, nb, x.scales(), t * nb, nb, s.tile, 4 * GROUP);
    }

    @Override
    void fourTokens(int g, Int8Activations x, int t, Scratch s) {
        int nb = cols / 32;
        long base = first(g, nb);
        short[] sums = s.sums(4 * GROUP * nb);
        Int4LaneSums.sums4(packed, base + QUANTS, STRIDE, nb, x.quants(), t * cols, cols, x.sums(), t * nb, nb, sums);
        finish4(packed, base, sums, 0, nb, x.scales(), t * nb, nb, s.tile, 0);
    }

    /**
     * One token against one group of rows: {@code dst[o + i]} = row i. The block's columns go into
     * two short accumulators, one starting at {@code -8 * sum(xq)}, so the unsigned nibbles' products
     * (which may wrap 16 bits on the way) add up to the exact {@code sum (q - 8) xq}.
     */
    private static void group1(MemorySegment w, long base, int nb, short[] q, int xo, float[] d, int[] sum,
                               int so, float[] dst, int o) {
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        for (int b = 0; b < nb; b++) {
            long p = base + STRIDE * b + QUANTS;
            int xb = xo + 32 * b;
            // Int4LaneSums.sums1's loop, kept here so the sums never leave registers: two chains of
            // adds, joined per block (sums1 says why)
            ShortVector acc = ShortVector.broadcast(S, (short) (-8 * sum[so + b]));
            ShortVector odd = ShortVector.zero(S);
            for (int j = 0; j < 8; j++) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, p + (long) LINE * j, LE);
                int c = xb + 2 * j;
                IntVector vi = v.reinterpretAsInts();
                acc = acc.add(v.and((short) 0xF).mul(q[c]))
                        .add(vi.lanewise(VectorOperators.LSHR, 4).reinterpretAsShorts().and((short) 0xF).mul(q[c + 16]));
                odd = odd.add(vi.lanewise(VectorOperators.LSHR, 8).reinterpretAsShorts().and((short) 0xF).mul(q[c + 1]))
                        .add(vi.lanewise(VectorOperators.LSHR, 12).reinterpretAsShorts().and((short) 0xF).mul(q[c + 17]));
            }
            IntVector sums = acc.add(odd).reinterpretAsInts();
            float dx = d[so + b];
            // Int4LaneSums.low/high written out (see finish1)
            FloatVector lo = (FloatVector) sums.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0);
            FloatVector hi = (FloatVector) sums.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            f0 = lo.fma(FloatVector.fromMemorySegment(F, w, p - QUANTS, LE).mul(dx), f0);
            f1 = hi.fma(FloatVector.fromMemorySegment(F, w, p - QUANTS + SECOND_HALF_SCALES, LE).mul(dx), f1);
        }
        f0.intoArray(dst, o);
        f1.intoArray(dst, o + HALF);
    }

    /**
     * Four tokens' block sums (token k's from {@code acc[ao + GROUP k nb]}, its activation scales from
     * {@code d[so + k ss]}) against the group whose first block is at {@code base}, scaled and accumulated
     * block after block exactly as {@link #finish1} does per token, into {@code tile[to + GROUP k + i]}. A
     * block's weight scales are loaded once for the four tokens (finish1 per token loaded them four times:
     * ~11% of Q4_0 prefill samples were the scaling).
     */
    private static void finish4(MemorySegment w, long base, short[] acc, int ao, int nb, float[] d, int so, int ss,
                                float[] tile, int to) {
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        FloatVector g0 = f0;
        FloatVector g1 = f0;
        FloatVector h0 = f0;
        FloatVector h1 = f0;
        FloatVector k0 = f0;
        FloatVector k1 = f0;
        int as = GROUP * nb;
        for (int b = 0; b < nb; b++) {
            long p = base + STRIDE * b;
            FloatVector sl = FloatVector.fromMemorySegment(F, w, p, LE);
            FloatVector sh = FloatVector.fromMemorySegment(F, w, p + SECOND_HALF_SCALES, LE);
            int at = ao + GROUP * b;
            int sb = so + b;
            // finish1's expressions per token, written out (see there)
            IntVector a = ShortVector.fromArray(S, acc, at).reinterpretAsInts();
            float dx = d[sb];
            f0 = ((FloatVector) a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0)).fma(sl.mul(dx), f0);
            f1 = ((FloatVector) a.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(sh.mul(dx), f1);
            a = ShortVector.fromArray(S, acc, at + as).reinterpretAsInts();
            dx = d[sb + ss];
            g0 = ((FloatVector) a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0)).fma(sl.mul(dx), g0);
            g1 = ((FloatVector) a.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(sh.mul(dx), g1);
            a = ShortVector.fromArray(S, acc, at + 2 * as).reinterpretAsInts();
            dx = d[sb + 2 * ss];
            h0 = ((FloatVector) a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0)).fma(sl.mul(dx), h0);
            h1 = ((FloatVector) a.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(sh.mul(dx), h1);
            a = ShortVector.fromArray(S, acc, at + 3 * as).reinterpretAsInts();
            dx = d[sb + 3 * ss];
            k0 = ((FloatVector) a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0)).fma(sl.mul(dx), k0);
            k1 = ((FloatVector) a.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(sh.mul(dx), k1);
        }
        f0.intoArray(tile, to);
        f1.intoArray(tile, to + HALF);
        g0.intoArray(tile, to + GROUP);
        g1.intoArray(tile, to + GROUP + HALF);
        h0.intoArray(tile, to + 2 * GROUP);
        h1.intoArray(tile, to + 2 * GROUP + HALF);
        k0.intoArray(tile, to + 3 * GROUP);
        k1.intoArray(tile, to + 3 * GROUP + HALF);
    }

    /**
     * One token's block sums ({@code acc[ao + GROUP b]}, block b; activation scales from {@code d[so]})
     * against the group whose first block is at {@code base}, scaled and accumulated block after block as
     * {@link #group1} does, into {@code dst[o ..]}.
     */
    private static void finish1(MemorySegment w, long base, short[] acc, int ao, int nb, float[] d, int so,
                                float[] dst, int o) {
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        for (int b = 0; b < nb; b++) {
            IntVector a = ShortVector.fromArray(S, acc, ao + GROUP * b).reinterpretAsInts();
            float dx = d[so + b];
            long p = base + STRIDE * b;
            // Int4LaneSums.low/high written out: a helper returning a vector is fast only where C2 inlines
            // it; JFR caught this loop calling them as real calls, in the Vector API's boxing fallback, for
            // seconds of decode (2.6-4 tok/s instead of 17-19). Written out, nothing depends on inlining.
            FloatVector lo = (FloatVector) a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0);
            FloatVector hi = (FloatVector) a.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            f0 = lo.fma(FloatVector.fromMemorySegment(F, w, p, LE).mul(dx), f0);
            f1 = hi.fma(FloatVector.fromMemorySegment(F, w, p + SECOND_HALF_SCALES, LE).mul(dx), f1);
        }
        f0.intoArray(dst, o);
        f1.intoArray(dst, o + HALF);
    }
}
