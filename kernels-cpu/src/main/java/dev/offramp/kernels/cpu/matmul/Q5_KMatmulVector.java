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

/** Vector Q5_K kernel: Q4_K's nibbles plus bit j of qh[l] as the 5th bit of value 32j + l. */
public final class Q5_KMatmulVector extends QuantMatmulVector {
    private final boolean fused;
    /** The scales of the one weight this kernel was made for, or null (a kernel for any weight). */
    private final SideTable table;

    public Q5_KMatmulVector(VectorSpecies<Float> species) {
        this(species, null);
    }

    private Q5_KMatmulVector(VectorSpecies<Float> species, SideTable table) {
        super(DType.Q5_K, species, new Q5_KMatmulScalar());
        this.fused = qs.floats().length() == 16 && qs.bytes().length() == 16;
        this.table = table;
    }

    /**
     * A kernel for the one weight {@code w} ({@code rows} x {@code cols}): on 512-bit vectors its
     * one-token path reads scales and mins from a {@link KScaleMinTable} built here (same values and
     * order: results equal the plain kernel's bit for bit). Called with another segment, it behaves
     * as the plain kernel.
     *
     * <pre>{@code
     * MatmulKernel k = Q5_KMatmulVector.forWeight(FloatVector.SPECIES_512, tensor.data(), tensor.rows(), (int) tensor.cols());
     * }</pre>
     */
    public static Q5_KMatmulVector forWeight(VectorSpecies<Float> species, MemorySegment w, long rows, int cols) {
        if (species.length() != 16 || cols % 256 != 0 || rows < 1) {
            return new Q5_KMatmulVector(species);
        }
        return new Q5_KMatmulVector(species, KScaleMinTable.build(w, rows, cols, DType.Q5_K));
    }

    /**
     * One token on 512-bit vectors, decoded in registers: the staged path's weights ({@code q * scale -
     * min}, scales as QuantKScales.unpack rounds them) in its order (16-value chunk c into accumulator
     * c % 2), without the byte and scale buffers (the staged path ran at about half Q4_K's fused speed).
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
        long rowBytes = 176L * (cols >>> 8);
        long tableRow = (long) SideTable.BYTES_PER_SUPER_BLOCK * (cols >>> 8);
        for (int r = rowStart; r < rowEnd; r++) {
            out[r] = rowDot512Table(w, r * rowBytes, cols, x, 0, lanes, table, r * tableRow);
        }
    }

    /** {@link #rowDot512} with scales and mins read from the weight's table ({@code tb}: this row's first byte there). */
    private static float rowDot512Table(MemorySegment w, long base, int cols, float[] x, int xo, float[] lanes,
                                        MemorySegment table, long tb) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        for (int g = 0, ng = cols >>> 6; g < ng; g++) {
            long blk = base + 176L * (g >>> 2);
            int pair = g & 3;
            long sm = tb + 16L * g;
            float d1 = table.get(ValueLayout.JAVA_FLOAT, sm);
            float m1 = table.get(ValueLayout.JAVA_FLOAT, sm + 4);
            float d2 = table.get(ValueLayout.JAVA_FLOAT, sm + 8);
            float m2 = table.get(ValueLayout.JAVA_FLOAT, sm + 12);
            int jl = 2 * pair;
            int jh = jl + 1;
            int xi = xo + 64 * g;
            IntVector v0 = Widen512.bytes(w, blk + 48 + 32L * pair);
            IntVector v1 = Widen512.bytes(w, blk + 64 + 32L * pair);
            IntVector h0 = Widen512.bytes(w, blk + 16);
            IntVector h1 = Widen512.bytes(w, blk + 32);
            a0 = ((FloatVector) v0.and(0x0F).or(h0.lanewise(VectorOperators.LSHR, jl).and(1).lanewise(VectorOperators.LSHL, 4))
                    .convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).fma(FloatVector.fromArray(fs, x, xi), a0);
            a1 = ((FloatVector) v1.and(0x0F).or(h1.lanewise(VectorOperators.LSHR, jl).and(1).lanewise(VectorOperators.LSHL, 4))
                    .convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).fma(FloatVector.fromArray(fs, x, xi + 16), a1);
            a0 = ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).or(h0.lanewise(VectorOperators.LSHR, jh).and(1).lanewise(VectorOperators.LSHL, 4))
                    .convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).fma(FloatVector.fromArray(fs, x, xi + 32), a0);
            a1 = ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).or(h1.lanewise(VectorOperators.LSHR, jh).and(1).lanewise(VectorOperators.LSHL, 4))
                    .convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).fma(FloatVector.fromArray(fs, x, xi + 48), a1);
        }
        a0.add(a1).intoArray(lanes, 0);
        return QuantDot.sumLanes(lanes, 16);
    }

    /**
     * Own method, one sub-block pair (64 values, chunks 0..3 of the pair) per iteration: C2 boxes every
     * vector once a method outgrows its inlining node budget (see Q6_KMatmulVector).
     */
    private static float rowDot512(MemorySegment w, long base, int cols, float[] x, int xo, float[] lanes) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        for (int g = 0, ng = cols >>> 6; g < ng; g++) {
            long blk = base + 176L * (g >>> 2);
            int pair = g & 3;
            float d = QuantMatmulScalar.half(w, blk);
            float dmin = QuantMatmulScalar.half(w, blk + 2);
            long scs = QuantKScales.scales(w, blk + 4);
            long mns = QuantKScales.mins(w, blk + 4);
            int sh = 16 * pair;
            float d1 = d * (int) ((scs >>> sh) & 0xFF);
            float m1 = dmin * (int) ((mns >>> sh) & 0xFF);
            float d2 = d * (int) ((scs >>> (sh + 8)) & 0xFF);
            float m2 = dmin * (int) ((mns >>> (sh + 8)) & 0xFF);
            int jl = 2 * pair;
            int jh = jl + 1;
            int xi = xo + 64 * g;
            IntVector v0 = Widen512.bytes(w, blk + 48 + 32L * pair);
            IntVector v1 = Widen512.bytes(w, blk + 64 + 32L * pair);
            IntVector h0 = Widen512.bytes(w, blk + 16);
            IntVector h1 = Widen512.bytes(w, blk + 32);
            a0 = ((FloatVector) v0.and(0x0F).or(h0.lanewise(VectorOperators.LSHR, jl).and(1).lanewise(VectorOperators.LSHL, 4))
                    .convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).fma(FloatVector.fromArray(fs, x, xi), a0);
            a1 = ((FloatVector) v1.and(0x0F).or(h1.lanewise(VectorOperators.LSHR, jl).and(1).lanewise(VectorOperators.LSHL, 4))
                    .convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).fma(FloatVector.fromArray(fs, x, xi + 16), a1);
            a0 = ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).or(h0.lanewise(VectorOperators.LSHR, jh).and(1).lanewise(VectorOperators.LSHL, 4))
                    .convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).fma(FloatVector.fromArray(fs, x, xi + 32), a0);
            a1 = ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).or(h1.lanewise(VectorOperators.LSHR, jh).and(1).lanewise(VectorOperators.LSHL, 4))
                    .convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).fma(FloatVector.fromArray(fs, x, xi + 48), a1);
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
            long blk = base + 176L * b;
            QuantKScales.unpack(w, blk + 4, QuantMatmulScalar.half(w, blk), QuantMatmulScalar.half(w, blk + 2),
                    s.scale, s.min, 8 * b);
            ByteVector h0 = ByteVector.fromMemorySegment(B16, w, blk + 16, ByteOrder.LITTLE_ENDIAN);
            ByteVector h1 = ByteVector.fromMemorySegment(B16, w, blk + 32, ByteOrder.LITTLE_ENDIAN);
            for (int pair = 0; pair < 4; pair++) {
                long at = blk + 48 + 32L * pair;
                int o = 256 * b + 64 * pair;
                int jl = 2 * pair;
                int jh = 2 * pair + 1;
                ByteVector v0 = ByteVector.fromMemorySegment(B16, w, at, ByteOrder.LITTLE_ENDIAN);
                ByteVector v1 = ByteVector.fromMemorySegment(B16, w, at + 16, ByteOrder.LITTLE_ENDIAN);
                v0.and((byte) 0x0F).or(h0.lanewise(VectorOperators.LSHR, jl).and((byte) 1).lanewise(VectorOperators.LSHL, 4))
                        .intoArray(q, o);
                v1.and((byte) 0x0F).or(h1.lanewise(VectorOperators.LSHR, jl).and((byte) 1).lanewise(VectorOperators.LSHL, 4))
                        .intoArray(q, o + 16);
                v0.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .or(h0.lanewise(VectorOperators.LSHR, jh).and((byte) 1).lanewise(VectorOperators.LSHL, 4))
                        .intoArray(q, o + 32);
                v1.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .or(h1.lanewise(VectorOperators.LSHR, jh).and((byte) 1).lanewise(VectorOperators.LSHL, 4))
                        .intoArray(q, o + 48);
            }
        }
    }
}
