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
 * Vector Q4_K kernel: per pair of 32-value sub-blocks, 32 bytes whose low nibbles are the first
 * sub-block and high nibbles the second; value = (d*scale) * q - (dmin*min), as ggml rounds it.
 */
public final class Q4_KMatmulVector extends QuantMatmulVector {
    private final boolean fused;
    /** The scales of the one weight this kernel was made for, or null (a kernel for any weight). */
    private final SideTable table;

    public Q4_KMatmulVector(VectorSpecies<Float> species) {
        this(species, null);
    }

    private Q4_KMatmulVector(VectorSpecies<Float> species, SideTable table) {
        super(DType.Q4_K, species, new Q4_KMatmulScalar());
        int lanes = qs.floats().length();
        this.fused = (lanes == 16 || lanes == 8) && qs.bytes().length() == lanes;
        this.table = table;
    }

    /**
     * A kernel for the one weight {@code w} ({@code rows} x {@code cols}): on 512-bit vectors its
     * one-token path reads the scales and mins from a {@link KScaleMinTable} built here (same values,
     * same order, so results equal the plain kernel's bit for bit). Called with another segment, it
     * behaves as the plain kernel.
     *
     * <pre>{@code
     * MatmulKernel k = Q4_KMatmulVector.forWeight(FloatVector.SPECIES_512, tensor.data(), tensor.rows(), (int) tensor.cols());
     * k.matmul(tensor.data(), cols, x, cols, 1, out, rows, 0, rows);
     * }</pre>
     */
    public static Q4_KMatmulVector forWeight(VectorSpecies<Float> species, MemorySegment w, long rows, int cols) {
        if (species.length() != 16 || cols % 256 != 0 || rows < 1) {
            return new Q4_KMatmulVector(species);
        }
        return new Q4_KMatmulVector(species, KScaleMinTable.build(w, rows, cols, DType.Q4_K));
    }

    /**
     * One token, decoded in registers: the weights and accumulation order of the staged path (chunk c
     * of lanes into accumulator c % 2; value (float) q * scale - min), without the byte buffer.
     */
    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo, Scratch s) {
        if (!fused) {
            return super.rowDot(w, base, cols, x, xo, s);
        }
        VectorSpecies<Float> fs = qs.floats();
        VectorSpecies<Byte> bs = qs.bytes();
        int l = fs.length();
        if (l == 16) {
            return rowDot512(w, base, cols, x, xo, s.lanes);
        }
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        float[] sc = s.scale;
        float[] mn = s.min;
        for (int b = 0, nb = cols >>> 8; b < nb; b++) {
            long blk = base + 144L * b;
            QuantKScales.unpack(w, blk + 4, QuantMatmulScalar.half(w, blk), QuantMatmulScalar.half(w, blk + 2), sc, mn, 0);
            for (int pair = 0; pair < 4; pair++) {
                long at = blk + 16 + 32L * pair;
                int xi = xo + 256 * b + 64 * pair;
                float d1 = sc[2 * pair];
                float m1 = mn[2 * pair];
                float d2 = sc[2 * pair + 1];
                float m2 = mn[2 * pair + 1];
                // l == 8: 64 values = chunks 0..7: low nibbles of the four 8-byte quarters, then high.
                ByteVector v0 = ByteVector.fromMemorySegment(bs, w, at, ByteOrder.LITTLE_ENDIAN);
                ByteVector v1 = ByteVector.fromMemorySegment(bs, w, at + 8, ByteOrder.LITTLE_ENDIAN);
                ByteVector v2 = ByteVector.fromMemorySegment(bs, w, at + 16, ByteOrder.LITTLE_ENDIAN);
                ByteVector v3 = ByteVector.fromMemorySegment(bs, w, at + 24, ByteOrder.LITTLE_ENDIAN);
                a0 = ((FloatVector) v0.and((byte) 0x0F).convertShape(VectorOperators.B2F, fs, 0)).mul(d1).sub(m1)
                        .fma(FloatVector.fromArray(fs, x, xi), a0);
                a1 = ((FloatVector) v1.and((byte) 0x0F).convertShape(VectorOperators.B2F, fs, 0)).mul(d1).sub(m1)
                        .fma(FloatVector.fromArray(fs, x, xi + 8), a1);
                a0 = ((FloatVector) v2.and((byte) 0x0F).convertShape(VectorOperators.B2F, fs, 0)).mul(d1).sub(m1)
                        .fma(FloatVector.fromArray(fs, x, xi + 16), a0);
                a1 = ((FloatVector) v3.and((byte) 0x0F).convertShape(VectorOperators.B2F, fs, 0)).mul(d1).sub(m1)
                        .fma(FloatVector.fromArray(fs, x, xi + 24), a1);
                a0 = ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .convertShape(VectorOperators.B2F, fs, 0)).mul(d2).sub(m2)
                        .fma(FloatVector.fromArray(fs, x, xi + 32), a0);
                a1 = ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .convertShape(VectorOperators.B2F, fs, 0)).mul(d2).sub(m2)
                        .fma(FloatVector.fromArray(fs, x, xi + 40), a1);
                a0 = ((FloatVector) v2.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .convertShape(VectorOperators.B2F, fs, 0)).mul(d2).sub(m2)
                        .fma(FloatVector.fromArray(fs, x, xi + 48), a0);
                a1 = ((FloatVector) v3.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .convertShape(VectorOperators.B2F, fs, 0)).mul(d2).sub(m2)
                        .fma(FloatVector.fromArray(fs, x, xi + 56), a1);
            }
        }
        a0.add(a1).intoArray(s.lanes, 0);
        return QuantDot.sumLanes(s.lanes, l);
    }

    /**
     * The 512-bit path of {@link #rowDot}, in its own method with every vector expression written out
     * (tiny static helpers only): C2 inlines Vector API calls only up to a node budget per method,
     * and a vector crossing a call it did not inline is boxed. The 6-bit scales and mins of a
     * super-block are unpacked into two longs (8 bytes each) and read per sub-block pair, not through
     * arrays; nibbles are zero-extended to int lanes and converted with one int-to-float op. Same
     * values and order as decodeRow ({@code d * sc} and {@code dmin * mn} as in QuantKScales.unpack,
     * then {@code q * scale - min}). In a one-thread probe (256 x 2048, in cache) this ran at ~1.2x the
     * byte-to-float and array version.
     */
    private static float rowDot512(MemorySegment w, long base, int cols, float[] x, int xo, float[] lanes) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        for (int b = 0, nb = cols >>> 8; b < nb; b++) {
            long blk = base + 144L * b;
            float d = QuantMatmulScalar.half(w, blk);
            float dmin = QuantMatmulScalar.half(w, blk + 2);
            long scs = QuantKScales.scales(w, blk + 4);
            long mns = QuantKScales.mins(w, blk + 4);
            for (int pair = 0; pair < 4; pair++) {
                long at = blk + 16 + 32L * pair;
                int xi = xo + 256 * b + 64 * pair;
                int sh = 16 * pair;
                float d1 = d * (int) ((scs >>> sh) & 0xFF);
                float m1 = dmin * (int) ((mns >>> sh) & 0xFF);
                float d2 = d * (int) ((scs >>> (sh + 8)) & 0xFF);
                float m2 = dmin * (int) ((mns >>> (sh + 8)) & 0xFF);
                // 64 values = chunks 0..3: low nibbles of bytes 0-15, 16-31, then high nibbles.
                IntVector v0 = Widen512.bytes(w, at);
                IntVector v1 = Widen512.bytes(w, at + 16);
                a0 = ((FloatVector) v0.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1)
                        .fma(FloatVector.fromArray(fs, x, xi), a0);
                a1 = ((FloatVector) v1.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1)
                        .fma(FloatVector.fromArray(fs, x, xi + 16), a1);
                a0 = ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2)
                        .fma(FloatVector.fromArray(fs, x, xi + 32), a0);
                a1 = ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2)
                        .fma(FloatVector.fromArray(fs, x, xi + 48), a1);
            }
        }
        a0.add(a1).intoArray(lanes, 0);
        return QuantDot.sumLanes(lanes, 16);
    }

    /**
     * Rows with a table run in this class's own static loop: with the per-row {@code rowDot} of the
     * shared {@code matmul} loop, a model mixing three or more quantized types (Q3_K_M, Q2_K mixes)
     * would make that call site megamorphic (a real call per row); see {@link QuantMatmulVector#oneTokenRows}.
     */
    @Override
    boolean oneTokenRows(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd, Scratch s) {
        if (!(fused && qs.floats().length() == 16) || table == null || !table.isFor(w)) {
            return false;
        }
        rowsTable(w, cols, x, out, rowStart, rowEnd, s.lanes, s.tile, table.table());
        return true;
    }

    /**
     * Rows in pairs half the range apart, as in {@link Q8_0MatmulVector}'s row loop: four FMA chains
     * instead of two, shared activation loads, each row in its own order (same bits as
     * {@link #rowDot512Table}).
     */
    private static void rowsTable(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd,
                                  float[] lanes, float[] pair, MemorySegment table) {
        long rowBytes = 144L * (cols >>> 8);
        long tableRow = (long) SideTable.BYTES_PER_SUPER_BLOCK * (cols >>> 8);
        int half = (rowEnd - rowStart) >>> 1;
        for (int r = rowStart, end = rowStart + half; r < end; r++) {
            rowPair512Table(w, r * rowBytes, half * rowBytes, cols, x, lanes, pair, table, r * tableRow, half * tableRow);
            out[r] = pair[0];
            out[r + half] = pair[1];
        }
        if (((rowEnd - rowStart) & 1) != 0) {
            out[rowEnd - 1] = rowDot512Table(w, (rowEnd - 1) * rowBytes, cols, x, 0, lanes, table, (rowEnd - 1) * tableRow);
        }
    }

    /**
     * {@link #rowDot512Table} for the rows at bytes {@code base} and {@code base + apart} (table rows at
     * {@code tb} and {@code tb + tApart}), one 64-value group per step with the one-row loop's chunks
     * and accumulators (low nibbles of bytes 0-15 into accumulator 0, of 16-31 into 1, then the high
     * nibbles the same way). Sums to {@code pair[0]} and {@code pair[1]}.
     */
    private static void rowPair512Table(MemorySegment w, long base, long apart, int cols, float[] x, float[] lanes,
                                        float[] pair, MemorySegment table, long tb, long tApart) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        for (int p = 0, np = cols >>> 6; p < np; p++) {
            long at = base + 144L * (p >>> 2) + 16 + 32L * (p & 3);
            long at2 = at + apart;
            long sm = tb + 16L * p;
            long sm2 = sm + tApart;
            int xi = 64 * p;
            FloatVector x0 = FloatVector.fromArray(fs, x, xi);
            FloatVector x1 = FloatVector.fromArray(fs, x, xi + 16);
            FloatVector x2 = FloatVector.fromArray(fs, x, xi + 32);
            FloatVector x3 = FloatVector.fromArray(fs, x, xi + 48);
            IntVector v0 = Widen512.bytes(w, at);
            IntVector v1 = Widen512.bytes(w, at + 16);
            IntVector u0 = Widen512.bytes(w, at2);
            IntVector u1 = Widen512.bytes(w, at2 + 16);
            float d1 = table.get(ValueLayout.JAVA_FLOAT, sm);
            float m1 = table.get(ValueLayout.JAVA_FLOAT, sm + 4);
            float e1 = table.get(ValueLayout.JAVA_FLOAT, sm2);
            float n1 = table.get(ValueLayout.JAVA_FLOAT, sm2 + 4);
            a0 = ((FloatVector) v0.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).fma(x0, a0);
            a1 = ((FloatVector) v1.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).fma(x1, a1);
            b0 = ((FloatVector) u0.and(0x0F).convert(VectorOperators.I2F, 0)).mul(e1).sub(n1).fma(x0, b0);
            b1 = ((FloatVector) u1.and(0x0F).convert(VectorOperators.I2F, 0)).mul(e1).sub(n1).fma(x1, b1);
            float d2 = table.get(ValueLayout.JAVA_FLOAT, sm + 8);
            float m2 = table.get(ValueLayout.JAVA_FLOAT, sm + 12);
            float e2 = table.get(ValueLayout.JAVA_FLOAT, sm2 + 8);
            float n2 = table.get(ValueLayout.JAVA_FLOAT, sm2 + 12);
            a0 = ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).fma(x2, a0);
            a1 = ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).fma(x3, a1);
            b0 = ((FloatVector) u0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(e2).sub(n2).fma(x2, b0);
            b1 = ((FloatVector) u1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(e2).sub(n2).fma(x3, b1);
        }
        a0.add(a1).intoArray(lanes, 0);
        b0.add(b1).intoArray(lanes, 16);
        QuantDot.treeSums(lanes, 16, 2, pair);
    }

    /**
     * {@link #rowDot512} with the scales and mins read from the weight's table ({@code tb}: this row's
     * first byte there): one flat loop over 64-value groups (the probe measured a loop nested per
     * super-block ~25% slower), the same chunks, values and accumulators.
     */
    private static float rowDot512Table(MemorySegment w, long base, int cols, float[] x, int xo, float[] lanes,
                                        MemorySegment table, long tb) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        for (int p = 0, np = cols >>> 6; p < np; p++) {
            long at = base + 144L * (p >>> 2) + 16 + 32L * (p & 3);
            long sm = tb + 16L * p;
            int xi = xo + 64 * p;
            float d1 = table.get(ValueLayout.JAVA_FLOAT, sm);
            float m1 = table.get(ValueLayout.JAVA_FLOAT, sm + 4);
            float d2 = table.get(ValueLayout.JAVA_FLOAT, sm + 8);
            float m2 = table.get(ValueLayout.JAVA_FLOAT, sm + 12);
            IntVector v0 = Widen512.bytes(w, at);
            IntVector v1 = Widen512.bytes(w, at + 16);
            a0 = ((FloatVector) v0.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1)
                    .fma(FloatVector.fromArray(fs, x, xi), a0);
            a1 = ((FloatVector) v1.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1)
                    .fma(FloatVector.fromArray(fs, x, xi + 16), a1);
            a0 = ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2)
                    .fma(FloatVector.fromArray(fs, x, xi + 32), a0);
            a1 = ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2)
                    .fma(FloatVector.fromArray(fs, x, xi + 48), a1);
        }
        a0.add(a1).intoArray(lanes, 0);
        return QuantDot.sumLanes(lanes, 16);
    }

    @Override
    int groupSize() {
        return 32;
    }

    @Override
    void decodeQuants(MemorySegment w, long base, int cols, Scratch s) {
        byte[] q = s.q;
        for (int b = 0, nb = cols >>> 8; b < nb; b++) {
            long blk = base + 144L * b;
            QuantKScales.unpack(w, blk + 4, QuantMatmulScalar.half(w, blk), QuantMatmulScalar.half(w, blk + 2),
                    s.scale, s.min, 8 * b);
            for (int pair = 0; pair < 4; pair++) {
                long at = blk + 16 + 32L * pair;
                int o = 256 * b + 64 * pair;
                ByteVector v0 = ByteVector.fromMemorySegment(B16, w, at, ByteOrder.LITTLE_ENDIAN);
                ByteVector v1 = ByteVector.fromMemorySegment(B16, w, at + 16, ByteOrder.LITTLE_ENDIAN);
                v0.and((byte) 0x0F).intoArray(q, o);
                v1.and((byte) 0x0F).intoArray(q, o + 16);
                v0.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).intoArray(q, o + 32);
                v1.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).intoArray(q, o + 48);
            }
        }
    }
}
