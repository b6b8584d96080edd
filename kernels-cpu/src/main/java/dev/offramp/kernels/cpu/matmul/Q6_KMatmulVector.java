package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vector Q6_K kernel: per half of 128 values, byte l of ql/ql+32/qh yields values l, l+32, l+64, l+96
 * (low nibbles, low nibbles of the second 32, high nibbles, high nibbles; 2 high bits each from qh),
 * minus 32, times (d * int8 scale) of their 16-value sub-block.
 */
public final class Q6_KMatmulVector extends QuantMatmulVector {
    private final boolean fused;
    /** The scales of the one weight this kernel was made for, or null (a kernel for any weight). */
    private final SideTable table;

    public Q6_KMatmulVector(VectorSpecies<Float> species) {
        this(species, null);
    }

    private Q6_KMatmulVector(VectorSpecies<Float> species, SideTable table) {
        super(DType.Q6_K, species, new Q6_KMatmulScalar());
        this.fused = qs.floats().length() == 16 && qs.bytes().length() == 16;
        this.table = table;
    }

    /**
     * A kernel for the one weight {@code w} ({@code rows} x {@code cols}): on 512-bit vectors its
     * one-token path reads the sub-block factors from a {@link Q6_KScaleTable} built here (same
     * values, same order: results equal the plain kernel's bit for bit). Called with another segment,
     * it behaves as the plain kernel.
     *
     * <pre>{@code
     * MatmulKernel k = Q6_KMatmulVector.forWeight(FloatVector.SPECIES_512, tensor.data(), tensor.rows(), (int) tensor.cols());
     * }</pre>
     */
    public static Q6_KMatmulVector forWeight(VectorSpecies<Float> species, MemorySegment w, long rows, int cols) {
        if (species.length() != 16 || cols % 256 != 0 || rows < 1) {
            return new Q6_KMatmulVector(species);
        }
        return new Q6_KMatmulVector(species, Q6_KScaleTable.build(w, rows, cols));
    }

    /**
     * One token on 512-bit vectors, decoded in registers: the staged path's weights ({@code q * (d *
     * scale)}; its {@code - 0} changes no bit) and order (16-value chunk c into accumulator c % 2, in
     * increasing c), without the byte and scale buffers. The staged path measured ~2x slower per weight
     * than Q4_K's fused one, and Q6_K holds the output head and half the attn_v/ffn_down tensors of
     * Q4_K_M files.
     */
    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo, Scratch s) {
        if (!fused) {
            return super.rowDot(w, base, cols, x, xo, s);
        }
        return rowDot512(w, base, cols, x, xo, s.lanes);
    }

    /**
     * Rows with a table run in this class's own static loop: with the per-row {@code rowDot} of the
     * shared {@code matmul} loop, a model mixing three or more quantized types (Q3_K_M, Q2_K mixes)
     * would make that call site megamorphic (a real call per row); see {@link QuantMatmulVector#oneTokenRows}.
     */
    @Override
    boolean oneTokenRows(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd, Scratch s) {
        if (!(fused) || table == null || !table.isFor(w)) {
            return false;
        }
        rowsTable(w, cols, x, out, rowStart, rowEnd, s.lanes, table.table());
        return true;
    }

    private static void rowsTable(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd,
                                  float[] lanes, MemorySegment table) {
        long rowBytes = 210L * (cols >>> 8);
        long tableRow = (long) SideTable.BYTES_PER_SUPER_BLOCK * (cols >>> 8);
        for (int r = rowStart; r < rowEnd; r++) {
            out[r] = rowDot512Table(w, r * rowBytes, cols, x, 0, lanes, table, r * tableRow);
        }
    }

    /** {@link #rowDot512} with the factors read from the weight's table ({@code tb}: this row's first byte there). */
    private static float rowDot512Table(MemorySegment w, long base, int cols, float[] x, int xo, float[] lanes,
                                        MemorySegment table, long tb) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        FloatVector acc = FloatVector.zero(fs);
        FloatVector other = acc;
        for (int g = 0, ng = cols >>> 6; g < ng; g++) {
            long blk = base + 210L * (g >>> 2);
            int h = (g >>> 1) & 1;
            int l0 = (g & 1) << 4;
            long ql = blk + 64L * h + l0;
            long sc = tb + 16L * g;
            int xg = xo + 256 * (g >>> 2) + 128 * h + l0;
            IntVector lo = Widen512.bytes(w, ql);
            IntVector hi = Widen512.bytes(w, ql + 32);
            IntVector hb = Widen512.bytes(w, blk + 128 + 32L * h + l0);
            acc = ((FloatVector) lo.and(0x0F).or(hb.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32)
                    .convert(VectorOperators.I2F, 0)).mul(table.get(ValueLayout.JAVA_FLOAT, sc))
                    .fma(FloatVector.fromArray(fs, x, xg), acc);
            acc = ((FloatVector) hi.and(0x0F).or(hb.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32)
                    .convert(VectorOperators.I2F, 0)).mul(table.get(ValueLayout.JAVA_FLOAT, sc + 4))
                    .fma(FloatVector.fromArray(fs, x, xg + 32), acc);
            acc = ((FloatVector) lo.lanewise(VectorOperators.LSHR, 4).or(hb.and(0x30)).sub(32)
                    .convert(VectorOperators.I2F, 0)).mul(table.get(ValueLayout.JAVA_FLOAT, sc + 8))
                    .fma(FloatVector.fromArray(fs, x, xg + 64), acc);
            acc = ((FloatVector) hi.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32)
                    .convert(VectorOperators.I2F, 0)).mul(table.get(ValueLayout.JAVA_FLOAT, sc + 12))
                    .fma(FloatVector.fromArray(fs, x, xg + 96), acc);
            FloatVector t = acc;
            acc = other;
            other = t;
        }
        acc.add(other).intoArray(lanes, 0);
        return QuantDot.sumLanes(lanes, 16);
    }

    /**
     * Own method, and one 64-value group per iteration, so that C2's per-method inlining budget covers
     * every vector call (an unrolled super-block exceeded it and every vector was boxed).
     */
    private static float rowDot512(MemorySegment w, long base, int cols, float[] x, int xo, float[] lanes) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        // acc takes the groups with l0 = 0 (chunks 0, 2, 4, 6 of a half: accumulator 0), then the
        // swap hands it the l0 = 16 groups (accumulator 1); four groups per super-block keep the
        // parity, so each accumulator sees its chunks in increasing order.
        FloatVector acc = FloatVector.zero(fs);
        FloatVector other = acc;
        for (int g = 0, ng = cols >>> 6; g < ng; g++) {
            long blk = base + 210L * (g >>> 2);
            int h = (g >>> 1) & 1;
            int l0 = (g & 1) << 4;
            float d = QuantMatmulScalar.half(w, blk + 208);
            long ql = blk + 64L * h + l0;
            long sc = blk + 192 + 8L * h + (l0 >>> 4);
            int xg = xo + 256 * (g >>> 2) + 128 * h + l0;
            IntVector lo = Widen512.bytes(w, ql);
            IntVector hi = Widen512.bytes(w, ql + 32);
            IntVector hb = Widen512.bytes(w, blk + 128 + 32L * h + l0);
            acc = ((FloatVector) lo.and(0x0F).or(hb.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32)
                    .convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc))
                    .fma(FloatVector.fromArray(fs, x, xg), acc);
            acc = ((FloatVector) hi.and(0x0F).or(hb.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32)
                    .convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 2))
                    .fma(FloatVector.fromArray(fs, x, xg + 32), acc);
            acc = ((FloatVector) lo.lanewise(VectorOperators.LSHR, 4).or(hb.and(0x30)).sub(32)
                    .convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 4))
                    .fma(FloatVector.fromArray(fs, x, xg + 64), acc);
            acc = ((FloatVector) hi.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32)
                    .convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 6))
                    .fma(FloatVector.fromArray(fs, x, xg + 96), acc);
            FloatVector t = acc;
            acc = other;
            other = t;
        }
        // ng is a multiple of 4: acc is accumulator 0 again.
        acc.add(other).intoArray(lanes, 0);
        return QuantDot.sumLanes(lanes, 16);
    }


    @Override
    int groupSize() {
        return 16;
    }

    @Override
    void decodeQuants(MemorySegment w, long base, int cols, Scratch s) {
        byte[] q = s.q;
        for (int b = 0, nb = cols >>> 8; b < nb; b++) {
            long blk = base + 210L * b;
            float d = QuantMatmulScalar.half(w, blk + 208);
            for (int i = 0; i < 16; i++) {
                s.scale[16 * b + i] = d * QuantMatmulScalar.i8(w, blk + 192 + i);
                s.min[16 * b + i] = 0f;
            }
            for (int h = 0; h < 2; h++) {
                for (int l0 = 0; l0 < 32; l0 += 16) {
                    long ql = blk + 64L * h + l0;
                    ByteVector a = ByteVector.fromMemorySegment(B16, w, ql, ByteOrder.LITTLE_ENDIAN);
                    ByteVector c = ByteVector.fromMemorySegment(B16, w, ql + 32, ByteOrder.LITTLE_ENDIAN);
                    ByteVector hb = ByteVector.fromMemorySegment(B16, w, blk + 128 + 32L * h + l0, ByteOrder.LITTLE_ENDIAN);
                    int o = 256 * b + 128 * h + l0;
                    a.and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32)
                            .intoArray(q, o);
                    c.and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32)
                            .intoArray(q, o + 32);
                    a.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).or(hb.and((byte) 0x30)).sub((byte) 32)
                            .intoArray(q, o + 64);
                    c.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30))
                            .sub((byte) 32).intoArray(q, o + 96);
                }
            }
        }
    }
}
