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
 * Q4_K against {@code q8_K} int8 activations on 256- or 512-bit vectors, a group of rows per vector
 * ({@link Q4_KInt8MatmulScalar}'s bits, llama.cpp's integer arithmetic).
 *
 * <p>Each 32-value sub-block is repacked as a Q4_0-style block of nibbles, so the block sums are
 * {@link Int4LaneSums}' (exact {@code sum (q - 8) xq} in 16-bit lanes). Per super-block they are then
 * combined in 32-bit lanes, exactly: {@code isum += sc_j * (S_j + 8 X_j)}, {@code msum += m_j X_j}
 * ({@code sc_j, m_j <= 63}, so {@code |isum| < 2^25}), and scaled once per super-block in float.
 *
 * <p>Repacked layout, per group of {@code GROUP} rows (32 at 512 bits): the quants of all
 * {@code cols / 32} sub-blocks ({@code 16 GROUP} bytes each, see {@link Int4LaneSums}), then per
 * super-block {@code 24 GROUP} bytes: {@code d} and {@code dmin} as floats, the 6-bit scales and mins
 * as {@code 8 x GROUP} bytes each (sub-block j, rows in order): 4864 bytes per 32 x 256 weights where
 * ggml's blocks take 4608 (+5.6%). The integer sums of a group are made in one pass over its quants
 * and scaled in a second over its scales, which follow: one forward stream per group (at 256 bits two
 * groups are read together, {@link Int8RowGroupKernel}).
 *
 * <pre>{@code
 * MatmulKernel k = Q4_KInt8MatmulVector.forWeight(tensor.data(), tensor.rows(), (int) tensor.cols());
 * }</pre>
 */
public final class Q4_KInt8MatmulVector extends Int8RowGroupKernel {
    /** Repacked quant bytes per group and sub-block: eight vectors. */
    private static final int SUB_BYTES = 8 * LINE;
    /** Repacked scale bytes per group and super-block: d, dmin (floats), 8 scales, 8 mins (bytes). */
    private static final int SCALE_BYTES = 24 * GROUP;
    /** Repacked bytes per group and super-block. */
    static final int GROUP_SUPER_BLOCK_BYTES = 8 * SUB_BYTES + SCALE_BYTES;
    /** Bytes from one of a group's sub-blocks to its next. */
    private static final long STRIDE = SUB_BYTES;
    private static final Q4_KInt8MatmulScalar SCALAR = new Q4_KInt8MatmulScalar();

    private Q4_KInt8MatmulVector(MemorySegment source, MemorySegment packed, long rows, int cols) {
        super(DType.Q4_K, Int8Scheme.Q8_K, SCALAR, source, packed, rows, cols);
    }

    /**
     * The kernel for the one Q4_K weight {@code w} ({@code rows} x {@code cols}), repacked here; null
     * when the machine's vectors are not 256 or 512 bits. Called with another segment, the kernel
     * computes with {@link Q4_KInt8MatmulScalar} (same bits).
     */
    public static Q4_KInt8MatmulVector forWeight(MemorySegment w, long rows, int cols) {
        if (!accepts(DType.Q4_K, w, rows, cols)) {
            return null;
        }
        int ns = cols / 256;
        long groups = groups(rows);
        MemorySegment p = allocate(groups, (long) ns * GROUP_SUPER_BLOCK_BYTES);
        // A group's rows are read into the heap in one copy each and its super-blocks written out
        // whole: segment accesses one byte at a time took ~2 s for tinyllama's weights.
        int rowBytes = 144 * ns;
        repackGroups(w, groups, () -> {
            byte[] stage = new byte[GROUP * rowBytes];
            MemorySegment stageSegment = MemorySegment.ofArray(stage);
            short[] quants = new short[8 * 8 * GROUP];
            byte[] scales = new byte[SCALE_BYTES];
            MemorySegment scaleSegment = MemorySegment.ofArray(scales);
            return g -> {
                long quantsAt = quantsAt(g, ns);
                long scalesAt = scalesAt(g, ns);
                int real = stageRows(w, rows, rowBytes, g, stage);
                for (int s = 0; s < ns; s++) {
                    // rows past the end: q = 8 and scales 0, a zero weight whose sums stay in range
                    java.util.Arrays.fill(quants, (short) 0x8888);
                    java.util.Arrays.fill(scales, (byte) 0);
                    for (int r = 0; r < real; r++) {
                        int blk = r * rowBytes + 144 * s;
                        int lane = Int4LaneSums.lane(r);
                        for (int j = 0; j < 8; j++) {
                            // sub-block j as a Q4_0 block: byte b = value b | value b + 16 << 4; lane short k
                            // = bytes 2k, 2k + 1
                            int qs = blk + 16 + 32 * (j >>> 1);
                            int shift = 4 * (j & 1);
                            for (int k = 0; k < 8; k++) {
                                int b0 = ((stage[qs + 2 * k] & 0xFF) >>> shift & 0xF) | ((stage[qs + 2 * k + 16] & 0xFF) >>> shift & 0xF) << 4;
                                int b1 = ((stage[qs + 2 * k + 1] & 0xFF) >>> shift & 0xF) | ((stage[qs + 2 * k + 17] & 0xFF) >>> shift & 0xF) << 4;
                                quants[GROUP * (8 * j + k) + lane] = (short) (b0 | b1 << 8);
                            }
                            scales[8 * GROUP + GROUP * j + r] = (byte) kScale(stage, blk + 4, j);
                            scales[16 * GROUP + GROUP * j + r] = (byte) kMin(stage, blk + 4, j);
                        }
                        scaleSegment.set(F32, 4L * r, QuantMatmulScalar.half(stageSegment, blk));
                        scaleSegment.set(F32, 4L * GROUP + 4L * r, QuantMatmulScalar.half(stageSegment, blk + 2));
                    }
                    for (int j = 0; j < 8; j++) {
                        MemorySegment.copy(quants, 8 * GROUP * j, p, I16, quantsAt + STRIDE * (8 * s + j), 8 * GROUP);
                    }
                    MemorySegment.copy(scales, 0, p, ValueLayout.JAVA_BYTE, scalesAt + (long) SCALE_BYTES * s, SCALE_BYTES);
                }
            };
        });
        return new Q4_KInt8MatmulVector(w, p, rows, cols);
    }

    /** {@link Q4_KMatmulScalar#kScale} on a heap copy (load-time code runs cold: plain arrays are faster there). */
    private static int kScale(byte[] b, int s, int j) {
        return j < 4 ? b[s + j] & 63 : (b[s + j + 4] & 0xF) | ((b[s + j - 4] & 0xFF) >>> 6) << 4;
    }

    /** {@link Q4_KMatmulScalar#kMin} on a heap copy. */
    private static int kMin(byte[] b, int s, int j) {
        return j < 4 ? b[s + j + 4] & 63 : ((b[s + j + 4] & 0xFF) >>> 4) | ((b[s + j] & 0xFF) >>> 6) << 4;
    }

    /** Where group {@code g}'s first sub-block of quants starts. */
    private static long quantsAt(long g, int ns) {
        return g * ns * (long) GROUP_SUPER_BLOCK_BYTES;
    }

    /** Where group {@code g}'s scales start, after its quants. */
    private static long scalesAt(long g, int ns) {
        return quantsAt(g, ns) + 8L * SUB_BYTES * ns;
    }

    @Override
    void oneToken(int g, Int8Activations x, int t, float[] dst, int o, Scratch s) {
        int ns = cols / 256;
        int nb = cols / 32;
        short[] acc = s.sums(GROUP * nb);
        Int4LaneSums.sums1(packed, quantsAt(g, ns), STRIDE, nb, x.quants(), t * cols, x.sums(), t * nb, acc);
        finish(packed, scalesAt(g, ns), ns, acc, 0, x.sums(), t * nb, x.scales(), t * ns, dst, o);
    }

    @Override
    void oneTokenTwoGroups(int g, Int8Activations x, float[] dst, int o, Scratch s) {
        int ns = cols / 256;
        int nb = cols / 32;
        short[] acc = s.sums(2 * GROUP * nb);
        Int4LaneSums.sums2(packed, quantsAt(g, ns), (long) ns * GROUP_SUPER_BLOCK_BYTES, STRIDE, nb, x.quants(), x.sums(), acc);
        finish(packed, scalesAt(g, ns), ns, acc, 0, x.sums(), 0, x.scales(), 0, dst, o);
        finish(packed, scalesAt(g + 1, ns), ns, acc, GROUP * nb, x.sums(), 0, x.scales(), 0, dst, o + GROUP);
    }

    @Override
    void fourTokensTwoGroups(int g, Int8Activations x, int t, Scratch s) {
        int ns = cols / 256;
        int nb = cols / 32;
        short[] acc = s.sums(8 * GROUP * nb);
        Int4LaneSums.sums4x2(packed, quantsAt(g, ns), (long) ns * GROUP_SUPER_BLOCK_BYTES, STRIDE, nb, x.quants(), t * cols, cols, x.sums(), t * nb, nb, acc);
        for (int h = 0; h < 2; h++) {
            long scales = scalesAt(g + h, ns);
            for (int k = 0; k < 4; k += 2) {
                finish2(packed, scales, ns, acc, GROUP * (4 * h + k) * nb, GROUP * nb, x.sums(), (t + k) * nb, nb,
                        x.scales(), (t + k) * ns, ns, s.tile, 4 * GROUP * h + GROUP * k);
            }
        }
    }

    @Override
    void fourTokens(int g, Int8Activations x, int t, Scratch s) {
        int ns = cols / 256;
        int nb = cols / 32;
        short[] acc = s.sums(4 * GROUP * nb);
        Int4LaneSums.sums4(packed, quantsAt(g, ns), STRIDE, nb, x.quants(), t * cols, cols, x.sums(), t * nb, nb, acc);
        long scales = scalesAt(g, ns);
        for (int k = 0; k < 4; k += 2) {
            finish2(packed, scales, ns, acc, GROUP * k * nb, GROUP * nb, x.sums(), (t + k) * nb, nb, x.scales(), (t + k) * ns,
                    ns, s.tile, GROUP * k);
        }
    }

    /**
     * One token's block sums ({@code acc[ao + GROUP b]}, sub-block b) scaled into the group's outputs
     * {@code dst[o ..]}: quant sums from {@code so}, activation scales from {@code dso}, the group's
     * scales from byte {@code sp0}.
     */
    private static void finish(MemorySegment w, long sp0, int ns, short[] acc, int ao, int[] sum, int so,
                               float[] d, int dso, float[] dst, int o) {
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        for (int s = 0; s < ns; s++) {
            long sp = sp0 + (long) SCALE_BYTES * s;
            IntVector i0 = IntVector.zero(I);
            IntVector i1 = i0;
            IntVector m0 = i0;
            IntVector m1 = i0;
            for (int j = 0; j < 8; j++) {
                // Int4LaneSums.lowInts/highInts and unsignedBytes written out: this loop is inlined
                // beside Int4LaneSums.sums1's, and past C2's node budget a helper is left un-inlined and
                // boxes (NoAllocationTest, some runs)
                IntVector a = ShortVector.fromArray(S, acc, ao + GROUP * (8 * s + j)).reinterpretAsInts();
                int xs = sum[so + 8 * s + j];
                long sc = sp + 8L * GROUP + (long) GROUP * j;
                IntVector sc0 = (IntVector) ByteVector.fromMemorySegment(B, w, sc, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector sc1 = (IntVector) ByteVector.fromMemorySegment(B, w, sc + HALF, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector mn0 = (IntVector) ByteVector.fromMemorySegment(B, w, sc + 8L * GROUP, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector mn1 = (IntVector) ByteVector.fromMemorySegment(B, w, sc + 8L * GROUP + HALF, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                i0 = i0.add(a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(8 * xs).mul(sc0));
                i1 = i1.add(a.lanewise(VectorOperators.ASHR, 16).add(8 * xs).mul(sc1));
                m0 = m0.add(mn0.mul(xs));
                m1 = m1.add(mn1.mul(xs));
            }
            float dx = d[dso + s];
            f0 = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp, LE).mul(dx), f0);
            f1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp + 2L * GROUP, LE).mul(dx), f1);
            f0 = ((FloatVector) m0.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp + 4L * GROUP, LE).mul(dx).neg(), f0);
            f1 = ((FloatVector) m1.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp + 6L * GROUP, LE).mul(dx).neg(), f1);
        }
        f0.intoArray(dst, o);
        f1.intoArray(dst, o + HALF);
    }

    /**
     * {@link #finish} for two tokens at once (the second's sums {@code ad}, quant sums {@code sd}, scales
     * {@code dd} after the first's; outputs at {@code dst[o]} and {@code dst[o + GROUP]}): the same
     * operations per token in the same order (same bits), with each sub-block's scales and mins widened
     * once for both tokens.
     */
    private static void finish2(MemorySegment w, long sp0, int ns, short[] acc, int ao, int ad, int[] sum, int so,
                                int sd, float[] d, int dso, int dd, float[] dst, int o) {
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        FloatVector g0 = f0;
        FloatVector g1 = f0;
        for (int s = 0; s < ns; s++) {
            long sp = sp0 + (long) SCALE_BYTES * s;
            IntVector i0 = IntVector.zero(I);
            IntVector i1 = i0;
            IntVector m0 = i0;
            IntVector m1 = i0;
            IntVector k0 = i0;
            IntVector k1 = i0;
            IntVector n0 = i0;
            IntVector n1 = i0;
            for (int j = 0; j < 8; j++) {
                long sc = sp + 8L * GROUP + (long) GROUP * j;
                IntVector sc0 = (IntVector) ByteVector.fromMemorySegment(B, w, sc, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector sc1 = (IntVector) ByteVector.fromMemorySegment(B, w, sc + HALF, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector mn0 = (IntVector) ByteVector.fromMemorySegment(B, w, sc + 8L * GROUP, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector mn1 = (IntVector) ByteVector.fromMemorySegment(B, w, sc + 8L * GROUP + HALF, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector a = ShortVector.fromArray(S, acc, ao + GROUP * (8 * s + j)).reinterpretAsInts();
                int xs = sum[so + 8 * s + j];
                i0 = i0.add(a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(8 * xs).mul(sc0));
                i1 = i1.add(a.lanewise(VectorOperators.ASHR, 16).add(8 * xs).mul(sc1));
                m0 = m0.add(mn0.mul(xs));
                m1 = m1.add(mn1.mul(xs));
                a = ShortVector.fromArray(S, acc, ao + ad + GROUP * (8 * s + j)).reinterpretAsInts();
                xs = sum[so + sd + 8 * s + j];
                k0 = k0.add(a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(8 * xs).mul(sc0));
                k1 = k1.add(a.lanewise(VectorOperators.ASHR, 16).add(8 * xs).mul(sc1));
                n0 = n0.add(mn0.mul(xs));
                n1 = n1.add(mn1.mul(xs));
            }
            float dx = d[dso + s];
            FloatVector dm = FloatVector.fromMemorySegment(F, w, sp, LE);
            FloatVector dm1 = FloatVector.fromMemorySegment(F, w, sp + 2L * GROUP, LE);
            FloatVector mm = FloatVector.fromMemorySegment(F, w, sp + 4L * GROUP, LE);
            FloatVector mm1 = FloatVector.fromMemorySegment(F, w, sp + 6L * GROUP, LE);
            f0 = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(dm.mul(dx), f0);
            f1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(dm1.mul(dx), f1);
            f0 = ((FloatVector) m0.convert(VectorOperators.I2F, 0)).fma(mm.mul(dx).neg(), f0);
            f1 = ((FloatVector) m1.convert(VectorOperators.I2F, 0)).fma(mm1.mul(dx).neg(), f1);
            float dy = d[dso + dd + s];
            g0 = ((FloatVector) k0.convert(VectorOperators.I2F, 0)).fma(dm.mul(dy), g0);
            g1 = ((FloatVector) k1.convert(VectorOperators.I2F, 0)).fma(dm1.mul(dy), g1);
            g0 = ((FloatVector) n0.convert(VectorOperators.I2F, 0)).fma(mm.mul(dy).neg(), g0);
            g1 = ((FloatVector) n1.convert(VectorOperators.I2F, 0)).fma(mm1.mul(dy).neg(), g1);
        }
        f0.intoArray(dst, o);
        f1.intoArray(dst, o + HALF);
        g0.intoArray(dst, o + GROUP);
        g1.intoArray(dst, o + GROUP + HALF);
    }
}
