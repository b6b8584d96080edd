package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Vector Q4_0 kernel: low nibbles are values 0..15 of a block, high nibbles 16..31, both minus 8, times d. */
public final class Q4_0MatmulVector extends QuantMatmulVector {
    private final boolean vectorDecode;
    private final boolean fused;

    public Q4_0MatmulVector(VectorSpecies<Float> species) {
        super(DType.Q4_0, species, new Q4_0MatmulScalar());
        // 16 bytes of nibbles per block: wider byte loads (float species over 512 bits) would straddle
        // blocks, so such widths decode through the reference codec.
        this.vectorDecode = 16 % qs.bytes().length() == 0;
        // 16 and 8 lanes: one chunk = one byte load of one nibble half; 4 lanes (NEON): one 8-byte
        // load = two chunks of each nibble half.
        int lanes = qs.floats().length();
        int byteLanes = qs.bytes().length();
        this.fused = (lanes == 16 || lanes == 8) && byteLanes == lanes || lanes == 4 && byteLanes == 8;
    }

    @Override
    boolean oneTokenRows(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd, Scratch s) {
        if (!fused || qs.floats().length() != 16) {
            return false;
        }
        long rowBytes = 18L * (cols >>> 5);
        rows512(w, rowStart * rowBytes, rowBytes, cols >>> 5, x, 0, out, rowStart, rowEnd - rowStart, s.lanes);
        return true;
    }

    /**
     * {@code count} rows at 16 lanes, row i at byte {@code base + i * rowBytes} into {@code out[o + i]}.
     * One block per step: block b is chunks 2b (low nibbles, accumulator 0) and 2b + 1 (high nibbles,
     * accumulator 1), the order of {@link QuantDot#dot} over the decoded row. The row and block loops
     * are one static loop nest in plain int-counted form, so that C2 unrolls the block loop and hoists
     * the segment and array bounds checks out of it: ~1.1x the former hand-unrolled two-block step,
     * which kept six checks per step, and ~1.25x a per-row call to the same loop (probe exp52 and the
     * production kernel alternated, 2048x2048 from L3 and from DRAM, docs/benchmarks.md).
     */
    private static void rows512(MemorySegment w, long base, long rowBytes, int nb, float[] x, int xo, float[] out,
                                int o, int count, float[] lanes) {
        for (int i = 0; i < count; i++) {
            long row = base + i * rowBytes;
            FloatVector a0 = FloatVector.zero(FloatVector.SPECIES_512);
            FloatVector a1 = a0;
            for (int b = 0; b < nb; b++) {
                long blk = row + 18L * b;
                IntVector q = Widen512.bytes(w, blk + 2);
                float d = QuantMatmulScalar.half(w, blk);
                int xi = xo + 32 * b;
                a0 = Widen512.lowNibbleMinus8(q).mul(d).fma(FloatVector.fromArray(FloatVector.SPECIES_512, x, xi), a0);
                a1 = Widen512.highNibbleMinus8(q).mul(d).fma(FloatVector.fromArray(FloatVector.SPECIES_512, x, xi + 16), a1);
            }
            a0.add(a1).intoArray(lanes, 0);
            out[o + i] = QuantDot.sumLanes(lanes, 16);
        }
    }

    /** One token, decoded in registers: the decoded path's values and accumulator order, without its buffer. */
    @Override
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo, Scratch s) {
        if (!fused) {
            return super.rowDot(w, base, cols, x, xo, s);
        }
        float[] lanesTmp = s.lanes;
        VectorSpecies<Float> fs = qs.floats();
        VectorSpecies<Byte> bs = qs.bytes();
        int l = fs.length();
        int nb = cols >>> 5;
        if (l == 16) {
            rows512(w, base, 0, nb, x, xo, s.tile, 0, 1, lanesTmp);
            return s.tile[0];
        }
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        if (l == 4) {
            // Block b is chunks 8b..8b+7: low nibbles of bytes 0-7 (chunks 0, 1), 8-15 (2, 3), then the
            // high nibbles of the same (4..7); accumulator = chunk % 2.
            for (int b = 0; b < nb; b++) {
                long blk = base + 18L * b;
                int xi = xo + 32 * b;
                ByteVector q0 = ByteVector.fromMemorySegment(bs, w, blk + 2, ByteOrder.LITTLE_ENDIAN);
                ByteVector q1 = ByteVector.fromMemorySegment(bs, w, blk + 10, ByteOrder.LITTLE_ENDIAN);
                float d = QuantMatmulScalar.half(w, blk);
                ByteVector l0 = lo(q0);
                ByteVector l1 = lo(q1);
                ByteVector h0 = hi(q0);
                ByteVector h1 = hi(q1);
                a0 = ((FloatVector) l0.convertShape(VectorOperators.B2F, fs, 0)).mul(d).fma(FloatVector.fromArray(fs, x, xi), a0);
                a1 = ((FloatVector) l0.convertShape(VectorOperators.B2F, fs, 1)).mul(d).fma(FloatVector.fromArray(fs, x, xi + 4), a1);
                a0 = ((FloatVector) l1.convertShape(VectorOperators.B2F, fs, 0)).mul(d).fma(FloatVector.fromArray(fs, x, xi + 8), a0);
                a1 = ((FloatVector) l1.convertShape(VectorOperators.B2F, fs, 1)).mul(d).fma(FloatVector.fromArray(fs, x, xi + 12), a1);
                a0 = ((FloatVector) h0.convertShape(VectorOperators.B2F, fs, 0)).mul(d).fma(FloatVector.fromArray(fs, x, xi + 16), a0);
                a1 = ((FloatVector) h0.convertShape(VectorOperators.B2F, fs, 1)).mul(d).fma(FloatVector.fromArray(fs, x, xi + 20), a1);
                a0 = ((FloatVector) h1.convertShape(VectorOperators.B2F, fs, 0)).mul(d).fma(FloatVector.fromArray(fs, x, xi + 24), a0);
                a1 = ((FloatVector) h1.convertShape(VectorOperators.B2F, fs, 1)).mul(d).fma(FloatVector.fromArray(fs, x, xi + 28), a1);
            }
        } else {
            // l == 8: chunks 4b..4b+3 are block b's low nibbles of bytes 0-7, 8-15, then high nibbles of the same.
            for (int b = 0; b < nb; b++) {
                long blk = base + 18L * b;
                int xi = xo + 32 * b;
                ByteVector q0 = ByteVector.fromMemorySegment(bs, w, blk + 2, ByteOrder.LITTLE_ENDIAN);
                ByteVector q1 = ByteVector.fromMemorySegment(bs, w, blk + 10, ByteOrder.LITTLE_ENDIAN);
                float d = QuantMatmulScalar.half(w, blk);
                a0 = widen(lo(q0), fs).mul(d).fma(FloatVector.fromArray(fs, x, xi), a0);
                a1 = widen(lo(q1), fs).mul(d).fma(FloatVector.fromArray(fs, x, xi + 8), a1);
                a0 = widen(hi(q0), fs).mul(d).fma(FloatVector.fromArray(fs, x, xi + 16), a0);
                a1 = widen(hi(q1), fs).mul(d).fma(FloatVector.fromArray(fs, x, xi + 24), a1);
            }
        }
        // Same final sum as QuantDot.dot: a0 + a1, then lanes in order.
        a0.add(a1).intoArray(lanesTmp, 0);
        return QuantDot.sumLanes(lanesTmp, l);
    }

    private static ByteVector lo(ByteVector q) {
        return q.and((byte) 0x0F).sub((byte) 8);
    }

    private static ByteVector hi(ByteVector q) {
        return q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
    }

    private static FloatVector widen(ByteVector q, VectorSpecies<Float> fs) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, fs, 0);
    }

    @Override
    void decodeRow(MemorySegment w, long base, int cols, float[] dst, int dstOffset, Scratch s) {
        if (!vectorDecode) {
            super.decodeRow(w, base, cols, dst, dstOffset, s);
            return;
        }
        VectorSpecies<Float> species = qs.floats();
        VectorSpecies<Byte> bytes = qs.bytes();
        int byteLanes = bytes.length();
        int lanes = species.length();
        int parts = byteLanes / lanes;
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            long blk = base + 18L * b;
            FloatVector d = FloatVector.broadcast(species, QuantMatmulScalar.half(w, blk));
            for (int k = 0; k < 16; k += byteLanes) {
                ByteVector q = ByteVector.fromMemorySegment(bytes, w, blk + 2 + k, ByteOrder.LITTLE_ENDIAN);
                ByteVector lo = q.and((byte) 0x0F).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
                for (int p = 0; p < parts; p++) {
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, species, p)).mul(d).intoArray(dst, dstOffset + 32 * b + k + p * lanes);
                }
                for (int p = 0; p < parts; p++) {
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, species, p)).mul(d).intoArray(dst, dstOffset + 32 * b + 16 + k + p * lanes);
                }
            }
        }
    }
}
