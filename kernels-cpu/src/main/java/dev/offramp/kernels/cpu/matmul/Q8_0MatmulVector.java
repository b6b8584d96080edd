package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector Q8_0 kernel: int8 lanes widened to float and scaled by the block's d. On 256- and 512-bit
 * machines the backend takes {@link Q8_0Int8MatmulVector} instead (int8 activations, ~1.7x this kernel's
 * decode on AVX2, docs/benchmarks.md, session 12); this one serves the other widths.
 */
public final class Q8_0MatmulVector extends QuantMatmulVector {
    private final boolean vectorDecode;
    private final boolean fused;

    public Q8_0MatmulVector(VectorSpecies<Float> species) {
        super(DType.Q8_0, species, new Q8_0MatmulScalar());
        // A block has 32 quants: a byte load wider than that (float species over 1024 bits) would
        // straddle blocks, so such widths decode through the reference codec.
        this.vectorDecode = 32 % qs.bytes().length() == 0;
        // 16 and 8 lanes: one chunk = one byte load; 4 lanes (NEON): one 8-byte load = two chunks.
        int lanes = qs.floats().length();
        int byteLanes = qs.bytes().length();
        this.fused = (lanes == 16 || lanes == 8) && byteLanes == lanes || lanes == 4 && byteLanes == 8;
    }

    @Override
    boolean oneTokenRows(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd, Scratch s) {
        if (!fused || qs.floats().length() != 16 && qs.floats().length() != 8) {
            return false;
        }
        rowPairs(w, cols, x, out, rowStart, rowEnd, s.lanes, s.tile, qs.floats().length() == 16);
        return true;
    }

    /** The rows at bytes {@code base} and {@code base + apart}, each with {@link #rowDot256}'s chunks and order. */
    private static void rowPair256(MemorySegment w, long base, long apart, int cols, float[] x, float[] lanes,
                                   float[] pair) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_256;
        VectorSpecies<Byte> bs = ByteVector.SPECIES_64;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        int xi = 0;
        for (long blk = base, end = base + 34L * (cols >>> 5); blk != end; blk += 34, xi += 32) {
            long blk2 = blk + apart;
            FloatVector x0 = FloatVector.fromArray(fs, x, xi);
            FloatVector x1 = FloatVector.fromArray(fs, x, xi + 8);
            FloatVector x2 = FloatVector.fromArray(fs, x, xi + 16);
            FloatVector x3 = FloatVector.fromArray(fs, x, xi + 24);
            float d = QuantMatmulScalar.half(w, blk);
            float e = QuantMatmulScalar.half(w, blk2);
            a0 = load(w, blk + 2, fs, bs).mul(d).fma(x0, a0);
            a1 = load(w, blk + 10, fs, bs).mul(d).fma(x1, a1);
            b0 = load(w, blk2 + 2, fs, bs).mul(e).fma(x0, b0);
            b1 = load(w, blk2 + 10, fs, bs).mul(e).fma(x1, b1);
            a0 = load(w, blk + 18, fs, bs).mul(d).fma(x2, a0);
            a1 = load(w, blk + 26, fs, bs).mul(d).fma(x3, a1);
            b0 = load(w, blk2 + 18, fs, bs).mul(e).fma(x2, b0);
            b1 = load(w, blk2 + 26, fs, bs).mul(e).fma(x3, b1);
        }
        a0.add(a1).intoArray(lanes, 0);
        b0.add(b1).intoArray(lanes, 8);
        QuantDot.treeSums(lanes, 8, 2, pair);
    }

    /** One row at 8 lanes: chunks 4b..4b+3 are the four quarters of block b, chunk c into accumulator c % 2. */
    private static float rowDot256(MemorySegment w, long base, int cols, float[] x, int xo, float[] lanesTmp) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_256;
        VectorSpecies<Byte> bs = ByteVector.SPECIES_64;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        for (int b = 0, nb = cols >>> 5; b < nb; b++) {
            long blk = base + 34L * b;
            int xi = xo + 32 * b;
            float d = QuantMatmulScalar.half(w, blk);
            a0 = load(w, blk + 2, fs, bs).mul(d).fma(FloatVector.fromArray(fs, x, xi), a0);
            a1 = load(w, blk + 10, fs, bs).mul(d).fma(FloatVector.fromArray(fs, x, xi + 8), a1);
            a0 = load(w, blk + 18, fs, bs).mul(d).fma(FloatVector.fromArray(fs, x, xi + 16), a0);
            a1 = load(w, blk + 26, fs, bs).mul(d).fma(FloatVector.fromArray(fs, x, xi + 24), a1);
        }
        a0.add(a1).intoArray(lanesTmp, 0);
        return QuantDot.sumLanes(lanesTmp, 8);
    }

    /**
     * {@link #rowDot512} ({@code wide}) or {@link #rowDot256} for each row, in a static loop nest of its
     * own (see {@link #oneTokenRows}), two rows at a time: row r beside row r + half. One row keeps two
     * FMA chains, so its loop waits on FMA latency; two rows give four independent chains and share the
     * activation loads, while each row still adds its chunks in its own order (same bits as one row at a
     * time). The partner sits half the range away, not next door: in a one-thread probe two adjacent
     * rows streamed from DRAM at ~0.55x of one row at a time (the two interleaved streams 1 KiB apart
     * defeat the prefetcher), two far-apart rows at ~1.1x (and ~1.15x from L2). At 256 bits the pair
     * took tinyllama Q8_0 decode on AVX2 from 4.90 to 5.87 tok/s (one thread) and 7.20 to 12.29 (two;
     * docs/benchmarks.md, session 10).
     */
    private static void rowPairs(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd,
                                 float[] lanes, float[] pair, boolean wide) {
        long rowBytes = 34L * (cols >>> 5);
        int half = (rowEnd - rowStart) >>> 1;
        for (int r = rowStart, end = rowStart + half; r < end; r++) {
            if (wide) {
                rowPair512(w, r * rowBytes, half * rowBytes, cols, x, lanes, pair);
            } else {
                rowPair256(w, r * rowBytes, half * rowBytes, cols, x, lanes, pair);
            }
            out[r] = pair[0];
            out[r + half] = pair[1];
        }
        if (((rowEnd - rowStart) & 1) != 0) {
            long last = (rowEnd - 1) * rowBytes;
            out[rowEnd - 1] = wide ? rowDot512(w, last, cols, x, 0, lanes) : rowDot256(w, last, cols, x, 0, lanes);
        }
    }

    /**
     * The rows at bytes {@code base} and {@code base + apart}, one block per step (block b is chunks
     * 2b and 2b + 1, so accumulator c % 2 gets the same chunks as in {@link #rowDot512}); their dots
     * go to {@code pair[0]} and {@code pair[1]}.
     */
    private static void rowPair512(MemorySegment w, long base, long apart, int cols, float[] x, float[] lanes,
                                   float[] pair) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        VectorSpecies<Byte> bs = ByteVector.SPECIES_128;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        int xi = 0;
        for (long blk = base, end = base + 34L * (cols >>> 5); blk != end; blk += 34, xi += 32) {
            long blk2 = blk + apart;
            FloatVector x0 = FloatVector.fromArray(fs, x, xi);
            FloatVector x1 = FloatVector.fromArray(fs, x, xi + 16);
            float d = QuantMatmulScalar.half(w, blk);
            float e = QuantMatmulScalar.half(w, blk2);
            a0 = load(w, blk + 2, fs, bs).mul(d).fma(x0, a0);
            a1 = load(w, blk + 18, fs, bs).mul(d).fma(x1, a1);
            b0 = load(w, blk2 + 2, fs, bs).mul(e).fma(x0, b0);
            b1 = load(w, blk2 + 18, fs, bs).mul(e).fma(x1, b1);
        }
        a0.add(a1).intoArray(lanes, 0);
        b0.add(b1).intoArray(lanes, 16);
        QuantDot.treeSums(lanes, 16, 2, pair);
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
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        int nb = cols >>> 5;
        if (l == 16) {
            return rowDot512(w, base, cols, x, xo, lanesTmp);
        } else if (l == 4) {
            // Block b is chunks 8b..8b+7: the 8-byte load k holds chunks 2k (part 0) and 2k + 1 (part 1).
            for (int b = 0; b < nb; b++) {
                long blk = base + 34L * b;
                int xi = xo + 32 * b;
                float d = QuantMatmulScalar.half(w, blk);
                for (int k = 0; k < 4; k += 2) {
                    ByteVector q0 = ByteVector.fromMemorySegment(bs, w, blk + 2 + 8 * k, ByteOrder.LITTLE_ENDIAN);
                    ByteVector q1 = ByteVector.fromMemorySegment(bs, w, blk + 10 + 8 * k, ByteOrder.LITTLE_ENDIAN);
                    int xk = xi + 8 * k;
                    a0 = ((FloatVector) q0.convertShape(VectorOperators.B2F, fs, 0)).mul(d)
                            .fma(FloatVector.fromArray(fs, x, xk), a0);
                    a1 = ((FloatVector) q0.convertShape(VectorOperators.B2F, fs, 1)).mul(d)
                            .fma(FloatVector.fromArray(fs, x, xk + 4), a1);
                    a0 = ((FloatVector) q1.convertShape(VectorOperators.B2F, fs, 0)).mul(d)
                            .fma(FloatVector.fromArray(fs, x, xk + 8), a0);
                    a1 = ((FloatVector) q1.convertShape(VectorOperators.B2F, fs, 1)).mul(d)
                            .fma(FloatVector.fromArray(fs, x, xk + 12), a1);
                }
            }
        } else {
            return rowDot256(w, base, cols, x, xo, lanesTmp);
        }
        // Same final sum as QuantDot.dot: a0 + a1, then lanes in order.
        a0.add(a1).intoArray(lanesTmp, 0);
        return QuantDot.sumLanes(lanesTmp, l);
    }

    /**
     * The 512-bit path, in its own method (C2's inlining node budget is per method; the narrower paths
     * beside it could push this loop over it and box every vector). Chunks 4k..4k+3 are the two halves
     * of block 2k, then of block 2k+1; chunk c into accumulator c % 2.
     */
    private static float rowDot512(MemorySegment w, long base, int cols, float[] x, int xo, float[] lanesTmp) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        VectorSpecies<Byte> bs = ByteVector.SPECIES_128;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        int nb = cols >>> 5;
        int xi = xo;
        long blk = base;
        // != rather than <: C2 then does not unroll this loop, which measured faster from DRAM (F16, FP8).
        for (long pairsEnd = base + 68L * (nb >>> 1); blk != pairsEnd; blk += 68, xi += 64) {
            float d0 = QuantMatmulScalar.half(w, blk);
            float d1 = QuantMatmulScalar.half(w, blk + 34);
            a0 = load(w, blk + 2, fs, bs).mul(d0).fma(FloatVector.fromArray(fs, x, xi), a0);
            a1 = load(w, blk + 18, fs, bs).mul(d0).fma(FloatVector.fromArray(fs, x, xi + 16), a1);
            a0 = load(w, blk + 36, fs, bs).mul(d1).fma(FloatVector.fromArray(fs, x, xi + 32), a0);
            a1 = load(w, blk + 52, fs, bs).mul(d1).fma(FloatVector.fromArray(fs, x, xi + 48), a1);
        }
        if ((nb & 1) != 0) {
            float d0 = QuantMatmulScalar.half(w, blk);
            a0 = load(w, blk + 2, fs, bs).mul(d0).fma(FloatVector.fromArray(fs, x, xi), a0);
            a1 = load(w, blk + 18, fs, bs).mul(d0).fma(FloatVector.fromArray(fs, x, xi + 16), a1);
        }
        a0.add(a1).intoArray(lanesTmp, 0);
        return QuantDot.sumLanes(lanesTmp, 16);
    }

    /** {@code lanes} int8 quants at byte {@code at}, widened to float. */
    private static FloatVector load(MemorySegment w, long at, VectorSpecies<Float> fs, VectorSpecies<Byte> bs) {
        return (FloatVector) ByteVector.fromMemorySegment(bs, w, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, fs, 0);
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
            long blk = base + 34L * b;
            FloatVector d = FloatVector.broadcast(species, QuantMatmulScalar.half(w, blk));
            for (int k = 0; k < 32; k += byteLanes) {
                ByteVector q = ByteVector.fromMemorySegment(bytes, w, blk + 2 + k, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < parts; p++) {
                    ((FloatVector) q.convertShape(VectorOperators.B2F, species, p)).mul(d).intoArray(dst, dstOffset + 32 * b + k + p * lanes);
                }
            }
        }
    }
}
