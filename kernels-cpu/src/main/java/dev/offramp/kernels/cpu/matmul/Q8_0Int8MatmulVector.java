package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q8_0 against int8 activations on 256- or 512-bit vectors, a group of rows in the short lanes of a vector
 * (llama.cpp's arithmetic, {@link Q8_0Int8MatmulScalar}'s bits).
 *
 * <p>Why: the float kernel ({@link Q8_0MatmulVector}) spends four operations per eight weights (widen,
 * convert, scale, FMA) plus a bounds check and an f16 scale per block, and ran compute-bound at ~0.6x of
 * llama.cpp on AVX2 (docs/benchmarks.md, session 10). Here a column is one broadcast activation times a
 * group's weights ({@code vpmovsxbw} from memory, {@code vpmullw}). A product of two int8 quants takes up
 * to 15 bits, so two columns' products share a short lane ({@code |q xq| <= 128 * 127}, two of them
 * {@code <= 32512}) and are then widened into 32-bit block sums, the int lanes' low halves (the first
 * half of the rows, {@link Int4LaneSums#lane}) by a shift pair, the high halves by one shift: 12
 * operations per 32 multiply-adds of one group, 11 when two groups share the broadcasts. A product per
 * 32-bit lane ({@code vpmovsxbd}, {@code vpmulld}) measured 0.65x of this. The block sums are exact
 * integers; each (row, token) then gets the twin's chain of FMAs, block after block.
 *
 * <p>Several tokens (prefill, verification) sum a block in float FMAs instead ({@link #group4},
 * {@link #allTokens}): 32 products of two int8 quants stay below 2^24 in magnitude, so every partial
 * sum is exact and the block sum is the same integer. With a block's weights widened to floats once
 * for all tokens, a column costs two loads and, per token, a broadcast and two FMAs (16 multiply-adds),
 * where the short lanes pay a multiply, an add and a widening shift pair per 16 products and token
 * (1.25-1.3x in the kernel probe; docs/benchmarks.md, session 14). Decode keeps the short lanes, which
 * read the weights with no widening pass.
 *
 * <p>The weight is repacked once ({@link #forWeight}) into groups of {@code GROUP} rows (16 at 256 bits,
 * 32 at 512), {@code 36 GROUP} bytes per group and block (+6% over ggml's 34): the rows' scales as
 * floats, then 32 columns of {@code GROUP} quants in lane order. A group's blocks are contiguous; at 256
 * bits two groups are read together, as two streams ({@link Int8RowGroupKernel}).
 *
 * <pre>{@code
 * MatmulKernel k = Q8_0Int8MatmulVector.forWeight(tensor.data(), tensor.rows(), (int) tensor.cols());
 * if (k != null) k.matmul(tensor.data(), cols, x, cols, 1, out, rows, 0, rows);
 * }</pre>
 */
public final class Q8_0Int8MatmulVector extends Int8RowGroupKernel {
    /** Repacked bytes per group and block: the rows' float scales, then 32 columns of quants. */
    static final int GROUP_BLOCK_BYTES = 4 * GROUP + 32 * GROUP;
    /** Where a group-block's quants start, after its rows' float scales. */
    private static final int QUANTS = 4 * GROUP;
    /** Where the scales of a group's second half of rows start. */
    private static final int SECOND_HALF_SCALES = 4 * HALF;
    /** Bytes from one of a group's blocks to its next. */
    private static final long STRIDE = GROUP_BLOCK_BYTES;
    /** A column of a group: one quant per row, widened to the short lanes ({@code vpmovsxbw}). */
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * GROUP));
    private static final Q8_0Int8MatmulScalar SCALAR = new Q8_0Int8MatmulScalar();

    private Q8_0Int8MatmulVector(MemorySegment source, MemorySegment packed, long rows, int cols) {
        super(DType.Q8_0, Int8Scheme.Q8_0, SCALAR, source, packed, rows, cols);
    }

    /**
     * The kernel for the one Q8_0 weight {@code w} ({@code rows} x {@code cols}), repacked here; null when
     * the machine's vectors are not 256 or 512 bits. Called with another segment, the kernel computes with
     * {@link Q8_0Int8MatmulScalar} (same bits).
     */
    public static Q8_0Int8MatmulVector forWeight(MemorySegment w, long rows, int cols) {
        if (!accepts(DType.Q8_0, w, rows, cols)) {
            return null;
        }
        int nb = cols / 32;
        long groups = groups(rows);
        MemorySegment p = allocate(groups, (long) nb * GROUP_BLOCK_BYTES);
        // as in the Q4_0 kernel: a group's rows copied to the heap at once, its blocks written out whole
        int rowBytes = 34 * nb;
        repackGroups(w, groups, () -> {
            byte[] stage = new byte[GROUP * rowBytes];
            byte[] staged = new byte[GROUP_BLOCK_BYTES];
            MemorySegment stagedSegment = MemorySegment.ofArray(staged);
            return g -> {
                int real = stageRows(w, rows, rowBytes, g, stage);
                for (int b = 0; b < nb; b++) {
                    // rows past the end: zero quants and scale
                    java.util.Arrays.fill(staged, (byte) 0);
                    for (int r = 0; r < real; r++) {
                        int blk = r * rowBytes + 34 * b;
                        int lane = Int4LaneSums.lane(r);
                        for (int c = 0; c < 32; c++) {
                            staged[QUANTS + GROUP * c + lane] = stage[blk + 2 + c];
                        }
                        stagedSegment.set(F32, 4L * r, Float.float16ToFloat((short) ((stage[blk] & 0xFF) | stage[blk + 1] << 8)));
                    }
                    MemorySegment.copy(staged, 0, p, ValueLayout.JAVA_BYTE, first(g, nb) + STRIDE * b, staged.length);
                }
            };
        });
        return new Q8_0Int8MatmulVector(w, p, rows, cols);
    }

    /** Where group {@code g}'s first block starts. */
    private static long first(long g, int nb) {
        return g * nb * (long) GROUP_BLOCK_BYTES;
    }

    @Override
    void oneToken(int g, Int8Activations x, int t, float[] dst, int o, Scratch s) {
        int nb = nb();
        group1(packed, first(g, nb), nb, x.quants(), t * cols, x.scales(), t * nb, dst, o);
    }

    @Override
    void oneTokenTwoGroups(int g, Int8Activations x, float[] dst, int o, Scratch s) {
        group2(packed, first(g, nb()), (long) nb() * GROUP_BLOCK_BYTES, nb(), x.quants(), x.scales(), dst, o);
    }

    @Override
    void fourTokens(int g, Int8Activations x, int t, Scratch s) {
        int nb = nb();
        group4(packed, first(g, nb), nb, x.floatQuants(), t * cols, cols, x.scales(), t * nb, nb, s.tile, 0);
    }

    /**
     * The two groups one after the other: four tokens keep eight float block sums per group (each half
     * of the rows), so both groups at once would need 16 accumulators, more than AVX2's registers beside
     * the weights and the broadcast.
     */
    @Override
    void fourTokensTwoGroups(int g, Int8Activations x, int t, Scratch s) {
        int nb = nb();
        float[] q = x.floatQuants();
        float[] d = x.scales();
        group4(packed, first(g, nb), nb, q, t * cols, cols, d, t * nb, nb, s.tile, 0);
        group4(packed, first(g + 1, nb), nb, q, t * cols, cols, d, t * nb, nb, s.tile, 4 * GROUP);
    }

    /**
     * Four tokens at a time against one group, block by block, as many fours as {@code n} holds: the
     * block's 32 columns are widened to floats once ({@code s.widened}, L1) and then swept by every four
     * tokens, where {@link #group4} widens its columns in the loop, once per four tokens. The loop is
     * then two loads, four broadcasts and eight FMAs per column (kernel probe, 1024 x 2048, 64 tokens,
     * one thread: 19-22 G MAC/s, against 16-20 with the widening in the loop and 14-17 in the short
     * lanes). Six tokens would take fewer loads per FMA, but C2 schedules the
     * six broadcasts ahead of the FMAs and spills four of the twelve accumulators (AVX2's 16 registers):
     * slower. Each (row, token) gets the same FMA chain, block after block, so the bits are
     * {@link #group4}'s and the twin's.
     */
    @Override
    int allTokens(int g, Int8Activations x, int n, Scratch s) {
        int m = n / 4 * 4;
        if (m < 8) {
            return 0; // one four: group4 widens as often, without the stores
        }
        int nb = nb();
        float[] acc = s.many(m * GROUP);
        java.util.Arrays.fill(acc, 0, m * GROUP, 0f);
        float[] wf = s.widened;
        float[] q = x.floatQuants();
        float[] d = x.scales();
        long base = first(g, nb);
        for (int b = 0; b < nb; b++) {
            long p = base + STRIDE * b + QUANTS;
            for (int c = 0; c < 32; c++) {
                IntVector v = ((ShortVector) ByteVector.fromMemorySegment(BS, packed, p + (long) GROUP * c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).reinterpretAsInts();
                ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).intoArray(wf, GROUP * c);
                ((FloatVector) v.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .intoArray(wf, GROUP * c + HALF);
            }
            sweep(wf, q, 32 * b, cols, d, b, nb, m, packed, p - QUANTS, acc);
        }
        return m;
    }

    /**
     * One block's 32 widened columns ({@code wf}: column c's first half of the rows at {@code GROUP c},
     * the second at {@code GROUP c + HALF}; the rows' scales at {@code scales} in {@code w}) against tokens
     * {@code [0, m)}, four at a time (token t's quants from {@code xo + t xs}, its block scale at
     * {@code so + t ss}): the block sums scaled into {@code acc[GROUP t + i]}. Vectors stay inside: a
     * vector argument to a call C2 does not inline is boxed.
     */
    private static void sweep(float[] wf, float[] q, int xo, int xs, float[] d, int so, int ss, int m,
                              MemorySegment w, long scales, float[] acc) {
        FloatVector sl = FloatVector.fromMemorySegment(F, w, scales, LE);
        FloatVector sh = FloatVector.fromMemorySegment(F, w, scales + SECOND_HALF_SCALES, LE);
        for (int t = 0; t < m; t += 4) {
            int xt = xo + t * xs;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector e0 = a0;
            FloatVector e1 = a0;
            FloatVector e2 = a0;
            FloatVector e3 = a0;
            for (int c = 0; c < 32; c++) {
                FloatVector lo = FloatVector.fromArray(F, wf, GROUP * c);
                FloatVector hi = FloatVector.fromArray(F, wf, GROUP * c + HALF);
                int xc = xt + c;
                FloatVector v = FloatVector.broadcast(F, q[xc]);
                a0 = lo.fma(v, a0);
                e0 = hi.fma(v, e0);
                v = FloatVector.broadcast(F, q[xc + xs]);
                a1 = lo.fma(v, a1);
                e1 = hi.fma(v, e1);
                v = FloatVector.broadcast(F, q[xc + 2 * xs]);
                a2 = lo.fma(v, a2);
                e2 = hi.fma(v, e2);
                v = FloatVector.broadcast(F, q[xc + 3 * xs]);
                a3 = lo.fma(v, a3);
                e3 = hi.fma(v, e3);
            }
            int st = so + t * ss;
            int at = GROUP * t;
            float dx = d[st];
            a0.fma(sl.mul(dx), FloatVector.fromArray(F, acc, at)).intoArray(acc, at);
            e0.fma(sh.mul(dx), FloatVector.fromArray(F, acc, at + HALF)).intoArray(acc, at + HALF);
            dx = d[st + ss];
            at += GROUP;
            a1.fma(sl.mul(dx), FloatVector.fromArray(F, acc, at)).intoArray(acc, at);
            e1.fma(sh.mul(dx), FloatVector.fromArray(F, acc, at + HALF)).intoArray(acc, at + HALF);
            dx = d[st + 2 * ss];
            at += GROUP;
            a2.fma(sl.mul(dx), FloatVector.fromArray(F, acc, at)).intoArray(acc, at);
            e2.fma(sh.mul(dx), FloatVector.fromArray(F, acc, at + HALF)).intoArray(acc, at + HALF);
            dx = d[st + 3 * ss];
            at += GROUP;
            a3.fma(sl.mul(dx), FloatVector.fromArray(F, acc, at)).intoArray(acc, at);
            e3.fma(sh.mul(dx), FloatVector.fromArray(F, acc, at + HALF)).intoArray(acc, at + HALF);
        }
    }

    private int nb() {
        return cols / 32;
    }


    /** One token (quants from {@code xo}, scales from {@code so}) against one group: row i into {@code dst[o + i]}. */
    private static void group1(MemorySegment w, long base, int nb, short[] q, int xo, float[] d, int so,
                               float[] dst, int o) {
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        for (int b = 0; b < nb; b++) {
            long p = base + STRIDE * b + QUANTS;
            int xb = xo + 32 * b;
            IntVector a0 = IntVector.zero(I);
            IntVector a1 = a0;
            for (int c = 0; c < 32; c += 2) {
                long at = p + (long) GROUP * c;
                ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(BS, w, at, LE).convertShape(VectorOperators.B2S, S, 0);
                ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(BS, w, at + GROUP, LE).convertShape(VectorOperators.B2S, S, 0);
                // two columns' products fill a short lane (|q xq| <= 128 * 127, two of them <= 32512)
                IntVector t = v0.mul(q[xb + c]).add(v1.mul(q[xb + c + 1])).reinterpretAsInts();
                a0 = a0.add(t.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                a1 = a1.add(t.lanewise(VectorOperators.ASHR, 16));
            }
            float dx = d[so + b];
            f0 = ((FloatVector) a0.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromMemorySegment(F, w, p - QUANTS, LE).mul(dx), f0);
            f1 = ((FloatVector) a1.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromMemorySegment(F, w, p - QUANTS + SECOND_HALF_SCALES, LE).mul(dx), f1);
        }
        f0.intoArray(dst, o);
        f1.intoArray(dst, o + HALF);
    }

    /**
     * Token 0 against two groups (the second {@code other} bytes after the first): their {@code 2 GROUP} rows into {@code dst[o ..]}, each broadcast shared by both groups.
     */
    private static void group2(MemorySegment w, long base, long other, int nb, short[] q, float[] d, float[] dst, int o) {
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        FloatVector f2 = f0;
        FloatVector f3 = f0;
        for (int b = 0; b < nb; b++) {
            long p = base + STRIDE * b + QUANTS;
            long u = p + other;
            int xb = 32 * b;
            IntVector a0 = IntVector.zero(I);
            IntVector a1 = a0;
            IntVector a2 = a0;
            IntVector a3 = a0;
            for (int c = 0; c < 32; c += 2) {
                long at = (long) GROUP * c;
                ShortVector x0 = ShortVector.broadcast(S, q[xb + c]);
                ShortVector x1 = ShortVector.broadcast(S, q[xb + c + 1]);
                IntVector t = ((ShortVector) ByteVector.fromMemorySegment(BS, w, p + at, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0)
                        .add(((ShortVector) ByteVector.fromMemorySegment(BS, w, p + at + GROUP, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x1))
                        .reinterpretAsInts();
                a0 = a0.add(t.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                a1 = a1.add(t.lanewise(VectorOperators.ASHR, 16));
                t = ((ShortVector) ByteVector.fromMemorySegment(BS, w, u + at, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0)
                        .add(((ShortVector) ByteVector.fromMemorySegment(BS, w, u + at + GROUP, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x1))
                        .reinterpretAsInts();
                a2 = a2.add(t.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                a3 = a3.add(t.lanewise(VectorOperators.ASHR, 16));
            }
            float dx = d[b];
            f0 = ((FloatVector) a0.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromMemorySegment(F, w, p - QUANTS, LE).mul(dx), f0);
            f1 = ((FloatVector) a1.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromMemorySegment(F, w, p - QUANTS + SECOND_HALF_SCALES, LE).mul(dx), f1);
            f2 = ((FloatVector) a2.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromMemorySegment(F, w, u - QUANTS, LE).mul(dx), f2);
            f3 = ((FloatVector) a3.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromMemorySegment(F, w, u - QUANTS + SECOND_HALF_SCALES, LE).mul(dx), f3);
        }
        f0.intoArray(dst, o);
        f1.intoArray(dst, o + HALF);
        f2.intoArray(dst, o + GROUP);
        f3.intoArray(dst, o + GROUP + HALF);
    }

    /**
     * Four tokens (quants as floats from {@code xo}, {@code xo + xs}, ...; scales from {@code so},
     * {@code so + ss}, ...) against one group: token k, row i into {@code tile[to + GROUP k + i]}.
     *
     * <p>A block's sums are made in float FMAs, not in the short lanes: a product of two quants is an
     * integer of at most 128 * 127 and a block's 32 of them sum to at most 520192 < 2^24, so every
     * partial sum is exact and the block sum is the twin's integer, whatever the order. An FMA is 8
     * multiply-adds, but AVX2 machines issue two per cycle beside the loads and conversions, where the
     * short-lane sums paid a multiply, an add and a widening shift pair per 16 products and token
     * (vpmullw issues once per cycle on Zen 3). Each column is widened once for the four tokens; the
     * eight block sums are scaled into the tile, which carries the accumulators from block to block (in
     * registers they would spill on AVX2).
     */
    private static void group4(MemorySegment w, long base, int nb, float[] q, int xo, int xs, float[] d, int so,
                               int ss, float[] tile, int to) {
        java.util.Arrays.fill(tile, to, to + 4 * GROUP, 0f);
        for (int b = 0; b < nb; b++) {
            long p = base + STRIDE * b + QUANTS;
            int xb = xo + 32 * b;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector e0 = a0;
            FloatVector e1 = a0;
            FloatVector e2 = a0;
            FloatVector e3 = a0;
            for (int c = 0; c < 32; c++) {
                IntVector v = ((ShortVector) ByteVector.fromMemorySegment(BS, w, p + (long) GROUP * c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).reinterpretAsInts();
                // the int lanes' low shorts are the first half of the rows, the high shorts the second
                FloatVector lo = (FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0);
                FloatVector hi = (FloatVector) v.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
                int xc = xb + c;
                FloatVector x = FloatVector.broadcast(F, q[xc]);
                a0 = lo.fma(x, a0);
                e0 = hi.fma(x, e0);
                x = FloatVector.broadcast(F, q[xc + xs]);
                a1 = lo.fma(x, a1);
                e1 = hi.fma(x, e1);
                x = FloatVector.broadcast(F, q[xc + 2 * xs]);
                a2 = lo.fma(x, a2);
                e2 = hi.fma(x, e2);
                x = FloatVector.broadcast(F, q[xc + 3 * xs]);
                a3 = lo.fma(x, a3);
                e3 = hi.fma(x, e3);
            }
            FloatVector sl = FloatVector.fromMemorySegment(F, w, p - QUANTS, LE);
            FloatVector sh = FloatVector.fromMemorySegment(F, w, p - QUANTS + SECOND_HALF_SCALES, LE);
            // written out: a helper taking the vectors, left un-inlined in this large loop, boxed them
            int sb = so + b;
            float dx = d[sb];
            a0.fma(sl.mul(dx), FloatVector.fromArray(F, tile, to)).intoArray(tile, to);
            e0.fma(sh.mul(dx), FloatVector.fromArray(F, tile, to + HALF)).intoArray(tile, to + HALF);
            dx = d[sb + ss];
            int at = to + GROUP;
            a1.fma(sl.mul(dx), FloatVector.fromArray(F, tile, at)).intoArray(tile, at);
            e1.fma(sh.mul(dx), FloatVector.fromArray(F, tile, at + HALF)).intoArray(tile, at + HALF);
            dx = d[sb + 2 * ss];
            at += GROUP;
            a2.fma(sl.mul(dx), FloatVector.fromArray(F, tile, at)).intoArray(tile, at);
            e2.fma(sh.mul(dx), FloatVector.fromArray(F, tile, at + HALF)).intoArray(tile, at + HALF);
            dx = d[sb + 3 * ss];
            at += GROUP;
            a3.fma(sl.mul(dx), FloatVector.fromArray(F, tile, at)).intoArray(tile, at);
            e3.fma(sh.mul(dx), FloatVector.fromArray(F, tile, at + HALF)).intoArray(tile, at + HALF);
        }
    }
}
