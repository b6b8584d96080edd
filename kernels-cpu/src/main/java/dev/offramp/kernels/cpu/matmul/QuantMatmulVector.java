package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.Dequantize;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * Vector quantized matmul. Every dequantized weight is {@code (float) q * scale - min} with q an
 * integer in a byte and (scale, min) the float pair of its group of 16 or 32 values, rounded exactly as
 * ggml's dequantization rounds it ({@code x + m} is {@code x - (-m)} bit for bit; {@code min = 0}
 * leaves a product unchanged). Decoding is staged:
 * <ol>
 * <li>{@link #decodeQuants}: the type's bit twiddling, byte lanes only, into a per-thread {@code q}
 *     buffer plus per-group scales and mins;</li>
 * <li>either {@link #dotQuants} (one token: widened, scaled and fused into the dot product) or
 *     {@link #expandQuants} (several tokens: floats once per row, then {@link QuantDot} per token).</li>
 * </ol>
 * Both give the same floats in the same accumulation order (chunk c of {@code lanes} weights into
 * accumulator {@code c % 2}), so a (token, row) result does not depend on the batch or the row split.
 * Stages are separate methods because C2 gives up inlining Vector API calls in one very large
 * method, and a vector that crosses a call C2 did not inline is boxed; only arrays cross calls here.
 *
 * <p>This base class, used as is, decodes with the runtime-core reference codec (correct, slow). The
 * per-type subclasses ({@link Q4_KMatmulVector} ...) implement the stages; Q8_0 and Q4_0 also fuse
 * decoding into registers for one token.
 */
public class QuantMatmulVector implements MatmulKernel {
    /** Byte species of the bit-twiddling stage: 16 bytes, present on every SIMD machine we target. */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

    final DType type;
    /** Species constants; hot code reads them through this object (see {@link QuantSpecies}). */
    final QuantSpecies qs;
    final QuantDot dot;
    private final MatmulKernel scalar;
    /**
     * Per-thread buffers, shared by every kernel instance: a backend makes one kernel per weight
     * tensor (hundreds per model), and per-instance buffers would cost hundreds of KiB each per
     * worker thread. A thread runs one matmul at a time, so one set per thread suffices; the buffers
     * hold no state between calls.
     */
    private static final ThreadLocal<Scratch> SCRATCH = new ThreadLocal<>();

    /** Per-thread buffers: kernels are shared by the worker threads, which split the rows. */
    static final class Scratch {
        float[] row = new float[0];
        float[] rows = new float[0];
        final float[] tile = new float[12];
        byte[] q = new byte[0];
        float[] scale = new float[0];
        float[] min = new float[0];
        /** Groups of four tokens' activations interleaved by {@link QuantDot#pack4}. */
        float[] packed = new float[0];
        /** Lane sums: twelve 512-bit vectors for {@link QuantDot#dot3x4}. */
        final float[] lanes = new float[192];

        float[] packed(int size) {
            if (packed.length < size) {
                packed = new float[size];
            }
            return packed;
        }

        float[] rows(int size) {
            if (rows.length < size) {
                rows = new float[size];
            }
            return rows;
        }
    }

    /**
     * @param type    the ggml weight type
     * @param species float species; tests pass 128/256/512-bit ones to cover narrower machines
     * @param scalar  the scalar twin of this kernel
     */
    public QuantMatmulVector(DType type, VectorSpecies<Float> species, MatmulKernel scalar) {
        if (scalar.type() != type) {
            throw new IllegalArgumentException("scalar twin is for " + scalar.type() + ", not " + type);
        }
        this.type = type;
        this.qs = QuantSpecies.of(species);
        this.dot = new QuantDot(qs);
        this.scalar = scalar;
    }

    @Override
    public final DType type() {
        return type;
    }

    @Override
    public final MatmulKernel scalar() {
        return scalar;
    }

    public final VectorSpecies<Float> species() {
        return qs.floats();
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                       float[] out, int outStride, int rowStart, int rowEnd) {
        long rowBytes = QuantMatmulArgs.check(type, w, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        if (n == 0) {
            return;
        }
        Scratch s = scratch(cols);
        if (n == 1) {
            if (oneTokenRows(w, cols, x, out, rowStart, rowEnd, s)) {
                return;
            }
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = rowDot(w, r * rowBytes, cols, x, 0, s);
            }
            return;
        }
        rowBlockTiles(dot, widener, w, rowBytes, cols, x, xStride, n, out, outStride, rowStart, rowEnd, s);
    }

    /** Widens one weight row to floats: the first stage of {@link #rowBlockTiles}. */
    interface RowWidener {
        void widen(MemorySegment w, long base, int cols, float[] dst, int dstOffset, Scratch s);
    }

    /** This kernel's {@link #decodeRow}, bound once (a method reference made per call would allocate). */
    private final RowWidener widener = this::decodeRow;

    /**
     * The float kernels' (F32, F16, BF16) prefill at 16 lanes: {@link #rowBlockTiles} when {@code tiles}
     * is set and there are several tokens, else false and nothing done. Their former 2-row x 4-token
     * tile over whole rows ran 0.55-0.77x of this (FloatMatmulBench n=64, docs/benchmarks.md).
     */
    static boolean floatRowBlockTiles(QuantDot tiles, RowWidener widener, MemorySegment w, long rowBytes, int cols,
                                      float[] x, int xStride, int n, float[] out, int outStride, int rowStart,
                                      int rowEnd) {
        if (tiles == null || n < 2) {
            return false;
        }
        rowBlockTiles(tiles, widener, w, rowBytes, cols, x, xStride, n, out, outStride, rowStart, rowEnd, scratch(cols));
        return true;
    }

    /**
     * Several tokens (prefill, verification) against rows {@code [rowStart, rowEnd)}: a block of rows is
     * widened once into floats (kept in L2), then swept by tiles of three (512-bit) or two rows x four
     * tokens, each weight chunk loaded once per four tokens and each activation chunk once per three or
     * two rows; at 8 lanes (AVX2, 16 registers) by one row x four tokens against activations packed once
     * per call ({@link QuantDot#dot4Packed}). Every (token, row) gets {@link QuantDot#dot}'s operations in its order, whatever the tile,
     * so a kernel whose one-token path equals {@code dot.dot} of the widened row is batch-invariant.
     */
    static void rowBlockTiles(QuantDot dot, RowWidener widener, MemorySegment w, long rowBytes, int cols,
                              float[] x, int xStride, int n, float[] out, int outStride, int rowStart, int rowEnd,
                              Scratch s) {
        int rowBlock = Math.max(1, Math.min(rowEnd - rowStart, ROW_BLOCK_FLOATS / cols));
        float[] rows = s.rows(rowBlock * cols);
        float[] tile = s.tile;
        boolean wide = dot.lanes() == 16;
        float[] packed = null;
        if (dot.lanes() == 8) {
            // once per call: each group of four tokens interleaved for QuantDot#dot4Packed
            packed = s.packed(n / 4 * 4 * cols);
            for (int t = 0; t + 4 <= n; t += 4) {
                dot.pack4(x, t * xStride, xStride, cols, packed, t * cols);
            }
        }
        for (int r0 = rowStart; r0 < rowEnd; r0 += rowBlock) {
            int rn = Math.min(rowBlock, rowEnd - r0);
            for (int i = 0; i < rn; i++) {
                widener.widen(w, (r0 + i) * rowBytes, cols, rows, i * cols, s);
            }
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                int xo = t * xStride;
                int i = 0;
                if (packed != null) {
                    // AVX2's 16 registers: one row x four tokens, activations packed (QuantDot#dot4Packed)
                    for (; i < rn; i++) {
                        dot.dot4Packed(rows, i * cols, packed, t * cols, cols, tile, s.lanes);
                        putTile(tile, 1, out, t * outStride + r0 + i, outStride);
                    }
                    continue;
                }
                if (wide) {
                    // 32 registers hold 3 x 4 x 2 accumulators plus the loads (see QuantDot.dot3x4)
                    for (; i + 3 <= rn; i += 3) {
                        dot.dot3x4(rows, i * cols, cols, x, xo, xStride, cols, tile, s.lanes);
                        putTile(tile, 3, out, t * outStride + r0 + i, outStride);
                    }
                }
                for (; i + 2 <= rn; i += 2) {
                    dot.dot2x4(rows, i * cols, cols, x, xo, xStride, cols, tile, s.lanes);
                    putTile(tile, 2, out, t * outStride + r0 + i, outStride);
                }
                if (i < rn) {
                    dot.dot4(rows, i * cols, x, xo, xStride, cols, tile, s.lanes);
                    putTile(tile, 1, out, t * outStride + r0 + i, outStride);
                }
            }
            for (; t < n; t++) {
                for (int i = 0; i < rn; i++) {
                    out[t * outStride + r0 + i] = dot.dot(rows, i * cols, x, t * xStride, cols, s.lanes);
                }
            }
        }
    }

    /** A tile's sums ({@code tile[4r + k]}: row r, token k) into {@code out} at {@code o + r + k outStride}. */
    private static void putTile(float[] tile, int tileRows, float[] out, int o, int outStride) {
        for (int k = 0; k < 4; k++) {
            for (int r = 0; r < tileRows; r++) {
                out[o + r + k * outStride] = tile[4 * r + k];
            }
        }
    }

    /**
     * One token over rows {@code [rowStart, rowEnd)} in a type's own loop, or false to use {@link #rowDot}
     * per row. Why a type may want this: {@code matmul} is shared by every quantized type, so its
     * per-row {@code rowDot} call is megamorphic in a real model (a real call per row), and a row loop
     * of its own lets C2 compile rows and blocks as one loop nest (the F16 kernel streamed from DRAM at
     * ~0.6x until its row loop moved into its static method).
     */
    boolean oneTokenRows(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd, Scratch s) {
        return false;
    }

    /** Decoded floats per row block: 64 Ki floats (256 KiB) stay in this machine's L2 while tiles sweep them. */
    private static final int ROW_BLOCK_FLOATS = 1 << 16;

    /** Group size (16 or 32) of the staged decoding, or 0 when the type has no {@link #decodeQuants}. */
    int groupSize() {
        return 0;
    }

    /** Staged decoding needs one byte load to stay inside one group. */
    final boolean staged() {
        int g = groupSize();
        return g > 0 && qs.bytes().length() <= g;
    }

    /**
     * Stage 1: writes the row's integer quants to {@code s.q[0 .. cols)} and each group's scale and
     * min to {@code s.scale}/{@code s.min} (group {@code i / groupSize()}).
     */
    void decodeQuants(MemorySegment w, long base, int cols, Scratch s) {
        throw new UnsupportedOperationException(type + " has no staged decoding");
    }

    /**
     * One token: the dot product of the row at byte {@code base} with {@code x[xo ..]}; must equal
     * {@code dot.dot(decodeRow(...), x)} bit for bit.
     */
    float rowDot(MemorySegment w, long base, int cols, float[] x, int xo, Scratch s) {
        if (staged()) {
            decodeQuants(w, base, cols, s);
            return dotQuants(s, cols, x, xo);
        }
        decodeRow(w, base, cols, s.row, 0, s);
        return dot.dot(s.row, 0, x, xo, cols, s.lanes);
    }

    /**
     * Writes the {@code cols} dequantized values of the row at byte {@code base} into {@code dst} from {@code dstOffset}:
     * bit-identical to {@link Dequantize#row} (tests hold every subclass to that).
     */
    void decodeRow(MemorySegment w, long base, int cols, float[] dst, int dstOffset, Scratch s) {
        if (staged()) {
            decodeQuants(w, base, cols, s);
            expandQuants(s, cols, dst, dstOffset);
        } else {
            Dequantize.row(type, w, base, dst, dstOffset, cols);
        }
    }

    /** Stage 2 for several tokens: {@code dst[i] = (float) q[i] * scale[g] - min[g]}. */
    final void expandQuants(Scratch s, int cols, float[] dst, int dstOffset) {
        VectorSpecies<Float> fs = qs.floats();
        VectorSpecies<Byte> bs = qs.bytes();
        int lanes = fs.length();
        int byteLanes = bs.length();
        int parts = byteLanes / lanes;
        int shift = Integer.numberOfTrailingZeros(groupSize());
        byte[] q = s.q;
        for (int i = 0; i < cols; i += byteLanes) {
            ByteVector v = ByteVector.fromArray(bs, q, i);
            float sc = s.scale[i >>> shift];
            float mn = s.min[i >>> shift];
            for (int p = 0; p < parts; p++) {
                ((FloatVector) v.convertShape(VectorOperators.B2F, fs, p)).mul(sc).sub(mn).intoArray(dst, dstOffset + i + p * lanes);
            }
        }
    }

    /** Stage 2 for one token: the weights of {@link #expandQuants}, fused into {@link QuantDot}'s order. */
    final float dotQuants(Scratch s, int cols, float[] x, int xo) {
        VectorSpecies<Float> fs = qs.floats();
        VectorSpecies<Byte> bs = qs.bytes();
        int l = fs.length();
        int shift = Integer.numberOfTrailingZeros(groupSize());
        byte[] q = s.q;
        float[] sc = s.scale;
        float[] mn = s.min;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        // cols is a multiple of the group size (16 or 32), hence of the lane count: no scalar tail.
        int pairs = cols - cols % (2 * l);
        int i = 0;
        for (; i < pairs; i += 2 * l) {
            a0 = chunk(q, sc, mn, i, shift, fs, bs).fma(FloatVector.fromArray(fs, x, xo + i), a0);
            a1 = chunk(q, sc, mn, i + l, shift, fs, bs).fma(FloatVector.fromArray(fs, x, xo + i + l), a1);
        }
        if (i < cols) {
            a0 = chunk(q, sc, mn, i, shift, fs, bs).fma(FloatVector.fromArray(fs, x, xo + i), a0);
        }
        // Same final sum as QuantDot.dot: a0 + a1, then lanes in order.
        a0.add(a1).intoArray(s.lanes, 0);
        return QuantDot.sumLanes(s.lanes, l);
    }

    /** Weights {@code [i, i + lanes)}: the byte load holding them, the right part widened, scaled. */
    private static FloatVector chunk(byte[] q, float[] sc, float[] mn, int i, int shift,
                                     VectorSpecies<Float> fs, VectorSpecies<Byte> bs) {
        int bl = bs.length();
        int at = i & -bl;
        int g = i >>> shift;
        return ((FloatVector) ByteVector.fromArray(bs, q, at).convertShape(VectorOperators.B2F, fs, (i - at) / fs.length()))
                .mul(sc[g]).sub(mn[g]);
    }

    /** This thread's buffers, sized for rows of {@code cols} values. */
    static Scratch scratch(int cols) {
        Scratch s = SCRATCH.get();
        if (s == null) {
            s = new Scratch();
            SCRATCH.set(s);
        }
        if (s.row.length < cols) {
            s.row = new float[cols];
            s.q = new byte[cols];
            s.scale = new float[cols / 16 + 1];
            s.min = new float[cols / 16 + 1];
        }
        return s;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + type + ", " + qs.floats() + "]";
    }
}
