package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q4_K against {@code q8_K} int8 activations on 512-bit vectors, 32 rows per vector
 * ({@link Q4_KInt8MatmulScalar}'s bits, llama.cpp's integer arithmetic).
 *
 * <p>Each 32-value sub-block is repacked as a Q4_0-style block of nibbles, so the block sums are
 * {@link Int4LaneSums}' (exact {@code sum (q - 8) xq} in 16-bit lanes). Per super-block they are then
 * combined in 32-bit lanes, exactly: {@code isum += sc_j * (S_j + 8 X_j)}, {@code msum += m_j X_j}
 * ({@code sc_j, m_j <= 63}, so {@code |isum| < 2^25}), and scaled once per super-block in float.
 *
 * <p>Repacked layout, per group of 32 rows: the quants of all {@code cols / 32} sub-blocks (512 bytes
 * each, see {@link Int4LaneSums}), then per super-block 768 bytes: {@code d} and {@code dmin} as 32
 * floats each, the 6-bit scales and mins as 8 x 32 bytes each (sub-block j, rows in order): 4864 bytes
 * per 32 x 256 weights where ggml's blocks take 4608 (+5.6%). The integer sums of a group are made in
 * one pass over its quants and scaled in a second over its scales, which follow: one forward stream.
 *
 * <pre>{@code
 * MatmulKernel k = Q4_KInt8MatmulVector.forWeight(tensor.data(), tensor.rows(), (int) tensor.cols());
 * }</pre>
 */
public final class Q4_KInt8MatmulVector implements MatmulKernel {
    private static final int GROUP = Int4LaneSums.GROUP;
    /** Repacked bytes per group and super-block: 8 x 512 quant bytes, then 768 of scales. */
    static final int GROUP_SUPER_BLOCK_BYTES = 4864;
    private static final int SCALE_BYTES = 768;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final Q4_KInt8MatmulScalar SCALAR = new Q4_KInt8MatmulScalar();
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final MemorySegment source;
    private final MemorySegment packed;
    private final long rows;
    private final int cols;

    private static final class Scratch {
        final Int8Activations x = new Int8Activations(Int8Scheme.Q8_K);
        /** One group's outputs for up to four tokens. */
        final float[] tile = new float[4 * GROUP];
        /** One group's block sums of up to four tokens. */
        short[] sums = new short[0];

        short[] sums(int size) {
            if (sums.length < size) {
                sums = new short[size];
            }
            return sums;
        }
    }

    private Q4_KInt8MatmulVector(MemorySegment source, MemorySegment packed, long rows, int cols) {
        this.source = source;
        this.packed = packed;
        this.rows = rows;
        this.cols = cols;
    }

    /**
     * The kernel for the one Q4_K weight {@code w} ({@code rows} x {@code cols}), repacked here; null
     * when the machine has no 512-bit vectors. Called with another segment, the kernel computes with
     * {@link Q4_KInt8MatmulScalar} (same bits).
     */
    public static Q4_KInt8MatmulVector forWeight(MemorySegment w, long rows, int cols) {
        if (ShortVector.SPECIES_PREFERRED.length() < GROUP || cols <= 0 || cols % 256 != 0 || rows < 1) {
            return null;
        }
        int ns = cols / 256;
        long need = rows * ns * 144;
        if (need > w.byteSize()) {
            throw new IllegalArgumentException("Q4_K weight of " + rows + " x " + cols + " needs " + need
                    + " bytes, the segment has " + w.byteSize());
        }
        long groups = (rows + GROUP - 1) / GROUP;
        MemorySegment p = Arena.ofAuto().allocate(groups * ns * GROUP_SUPER_BLOCK_BYTES, 64);
        byte[] v = new byte[16];
        for (long g = 0; g < groups; g++) {
            long base = g * ns * GROUP_SUPER_BLOCK_BYTES;
            for (int s = 0; s < ns; s++) {
                long sp = base + ns * 4096L + (long) SCALE_BYTES * s;
                for (int r = 0; r < GROUP; r++) {
                    long row = g * GROUP + r;
                    int lane = Int4LaneSums.lane(r);
                    if (row >= rows) {
                        // q = 8, scales 0: a zero weight whose sums stay in range
                        for (int j = 0; j < 8; j++) {
                            for (int k = 0; k < 8; k++) {
                                p.set(HALF, base + 512L * (8 * s + j) + 64L * k + 2L * lane, (short) 0x8888);
                            }
                        }
                        continue;
                    }
                    long blk = (row * ns + s) * 144;
                    for (int j = 0; j < 8; j++) {
                        // sub-block j as a Q4_0 block: byte b = value b | value b + 16 << 4
                        long qs = blk + 16 + 32L * (j >>> 1);
                        int shift = 4 * (j & 1);
                        for (int b = 0; b < 16; b++) {
                            int lo = (QuantMatmulScalar.u8(w, qs + b) >>> shift) & 0xF;
                            int hi = (QuantMatmulScalar.u8(w, qs + b + 16) >>> shift) & 0xF;
                            v[b] = (byte) (lo | hi << 4);
                        }
                        long to = base + 512L * (8 * s + j) + 2L * lane;
                        for (int k = 0; k < 8; k++) {
                            p.set(HALF, to + 64L * k, (short) ((v[2 * k] & 0xFF) | (v[2 * k + 1] & 0xFF) << 8));
                        }
                        p.set(ValueLayout.JAVA_BYTE, sp + 256 + 32L * j + r, (byte) Q4_KMatmulScalar.kScale(w, blk + 4, j));
                        p.set(ValueLayout.JAVA_BYTE, sp + 512 + 32L * j + r, (byte) Q4_KMatmulScalar.kMin(w, blk + 4, j));
                    }
                    p.set(F32, sp + 4L * r, QuantMatmulScalar.half(w, blk));
                    p.set(F32, sp + 128 + 4L * r, QuantMatmulScalar.half(w, blk + 2));
                }
            }
        }
        return new Q4_KInt8MatmulVector(w, p, rows, cols);
    }

    @Override
    public DType type() {
        return DType.Q4_K;
    }

    @Override
    public MatmulKernel scalar() {
        return SCALAR;
    }

    @Override
    public Int8Scheme int8Activations() {
        return Int8Scheme.Q8_K;
    }

    @Override
    public int rowGroup() {
        return GROUP;
    }

    @Override
    public void quantize(Int8Activations a, float[] x, int xStride, int n, int cols) {
        Int8ActivationsVector.quantize(a, x, xStride, n, cols);
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                       float[] out, int outStride, int rowStart, int rowEnd) {
        QuantMatmulArgs.check(DType.Q4_K, w, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        if (n == 0) {
            return;
        }
        Int8Activations a = SCRATCH.get().x;
        quantize(a, x, xStride, n, cols);
        matmul(w, cols, a, n, out, outStride, rowStart, rowEnd);
    }

    @Override
    public void matmul(MemorySegment w, int cols, Int8Activations x, int n,
                       float[] out, int outStride, int rowStart, int rowEnd) {
        QuantMatmulArgs.check(DType.Q4_K, w, cols, x, n, out, outStride, rowStart, rowEnd);
        if (w != source || cols != this.cols || rowEnd > rows) {
            SCALAR.matmul(w, cols, x, n, out, outStride, rowStart, rowEnd);
            return;
        }
        if (n == 0 || rowEnd == rowStart) {
            return;
        }
        int ns = cols / 256;
        int nb = cols / 32;
        short[] q = x.quants();
        float[] d = x.scales();
        int[] sum = x.sums();
        Scratch scratch = SCRATCH.get();
        float[] tile = scratch.tile;
        short[] acc = scratch.sums(4 * GROUP * nb);
        for (int g = rowStart / GROUP; g * GROUP < rowEnd; g++) {
            int r0 = g * GROUP;
            long base = (long) g * ns * GROUP_SUPER_BLOCK_BYTES;
            long scales = base + 4096L * ns;
            boolean whole = r0 >= rowStart && r0 + GROUP <= rowEnd;
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                Int4LaneSums.sums4(packed, base, 512, nb, q, t * cols, cols, sum, t * nb, nb, acc);
                for (int k = 0; k < 4; k++) {
                    finish(packed, scales, ns, acc, 32 * k * nb, sum, (t + k) * nb, d, (t + k) * ns, tile, 32 * k);
                    put(tile, 32 * k, out, (t + k) * outStride, r0, rowStart, rowEnd);
                }
            }
            for (; t < n; t++) {
                Int4LaneSums.sums1(packed, base, 512, nb, q, t * cols, sum, t * nb, acc);
                if (n == 1 && whole) {
                    // decode: straight into out
                    finish(packed, scales, ns, acc, 0, sum, 0, d, 0, out, r0);
                } else {
                    finish(packed, scales, ns, acc, 0, sum, t * nb, d, t * ns, tile, 0);
                    put(tile, 0, out, t * outStride, r0, rowStart, rowEnd);
                }
            }
        }
    }

    /** Rows {@code [max(r0, rowStart), min(r0 + 32, rowEnd))} of one group's outputs into {@code out[o + r]}. */
    private static void put(float[] tile, int from, float[] out, int o, int r0, int rowStart, int rowEnd) {
        for (int r = Math.max(r0, rowStart), end = Math.min(r0 + GROUP, rowEnd); r < end; r++) {
            out[o + r] = tile[from + r - r0];
        }
    }

    /**
     * One token's block sums ({@code acc[ao + 32 b]}, sub-block b) scaled into the group's 32 outputs
     * {@code dst[o ..]}: quant sums from {@code so}, activation scales from {@code dso}, the group's
     * scales from byte {@code sp0}.
     */
    private static void finish(MemorySegment w, long sp0, int ns, short[] acc, int ao, int[] sum, int so,
                               float[] d, int dso, float[] dst, int o) {
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        for (int s = 0; s < ns; s++) {
            long sp = sp0 + (long) SCALE_BYTES * s;
            IntVector i0 = IntVector.zero(IntVector.SPECIES_512);
            IntVector i1 = i0;
            IntVector m0 = i0;
            IntVector m1 = i0;
            for (int j = 0; j < 8; j++) {
                ShortVector a = ShortVector.fromArray(ShortVector.SPECIES_512, acc, ao + 32 * (8 * s + j));
                int xs = sum[so + 8 * s + j];
                long sc = sp + 256 + 32L * j;
                i0 = i0.add(Int4LaneSums.lowInts(a).add(8 * xs).mul(Widen512.bytes(w, sc)));
                i1 = i1.add(Int4LaneSums.highInts(a).add(8 * xs).mul(Widen512.bytes(w, sc + 16)));
                m0 = m0.add(Widen512.bytes(w, sc + 256).mul(xs));
                m1 = m1.add(Widen512.bytes(w, sc + 272).mul(xs));
            }
            float dx = d[dso + s];
            f0 = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp, LE).mul(dx), f0);
            f1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp + 64, LE).mul(dx), f1);
            f0 = ((FloatVector) m0.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp + 128, LE).mul(dx).neg(), f0);
            f1 = ((FloatVector) m1.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F, w, sp + 192, LE).mul(dx).neg(), f1);
        }
        f0.intoArray(dst, o);
        f1.intoArray(dst, o + 16);
    }

    @Override
    public String toString() {
        return "Q4_KInt8MatmulVector[" + rows + " x " + cols + "]";
    }
}
