package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * F16 matmul that widens each weight row once into a per-thread float buffer with a plain
 * {@link Float#float16ToFloat} loop (which C2 compiles to {@code vcvtph2ps}, one instruction per
 * vector, and which is exact for every half including subnormals, infinities and NaNs), then dots the
 * buffer with every token exactly as {@link F32MatmulVector} does with F32 weights: the same fixed
 * order per output, so batch 1 and batch N agree bit for bit. In-register widening by bit
 * manipulation ({@link dev.offramp.kernels.cpu.simd.Lanes#halfToFloat}) needs five to a dozen vector
 * operations per load instead, and measured 3-8x slower.
 *
 * <p>Decode (one token) of weights checked at prepare to hold no infinity or NaN ({@link #allFinite})
 * takes a fused path instead ({@link #dotFinite}): halves are widened in registers with the short
 * finite-only bit trick and fed straight into the FMAs. Widening a whole row first and dotting it
 * after reads DRAM in bursts separated by compute, and streamed about half as fast (probe, 5632x2048
 * over 256 MiB: 4.7-6.5 vs 9.5-12.9 GB/s on one thread); the fused loop keeps loads in flight. It
 * produces exactly the values and the summation order of {@link #dot1}, so batch 1 and batch N still
 * agree bit for bit.
 */
public abstract sealed class F16MatmulWiden implements MatmulKernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    private static final MatmulKernel SCALAR = new F16MatmulScalar();

    /** The kernel for {@code species}' width. */
    public static F16MatmulWiden of(VectorSpecies<Float> species) {
        return of(species, false);
    }

    /**
     * The kernel for {@code species}' width.
     *
     * @param finite true only when {@link #allFinite} holds for the weights this kernel will see:
     *               one-token calls then widen in registers (same bits, about twice the streaming rate)
     */
    public static F16MatmulWiden of(VectorSpecies<Float> species, boolean finite) {
        return switch (species.vectorBitSize()) {
            case 512 -> new W512(finite);
            case 256 -> new W256(finite);
            case 128 -> new W128(finite);
            case 64 -> new W64();
            default -> new Any(species);
        };
    }

    /**
     * Whether no half in {@code w} is an infinity or NaN (exponent bits all ones). Four halves per
     * long: {@code (v & 0x7C00) + 0x0400} carries into bit 15 of a half exactly when its exponent is
     * 31, and never into the next half.
     */
    public static boolean allFinite(MemorySegment w) {
        long n = w.byteSize();
        long i = 0;
        long hit = 0;
        for (; i + 8 <= n; i += 8) {
            long v = w.get(I64_LE, i);
            hit |= ((v & 0x7C007C007C007C00L) + 0x0400040004000400L) & 0x8000800080008000L;
        }
        for (; i + 2 <= n; i += 2) {
            hit |= ((w.get(I16_LE, i) & 0x7C00) + 0x0400) & 0x8000;
        }
        return hit == 0;
    }

    private final boolean finite;

    F16MatmulWiden(boolean finite) {
        this.finite = finite;
    }

    abstract VectorSpecies<Float> species();

    /**
     * The tiles of the quantized kernels' several-token path, or null where this kernel tiles on its own.
     * At 16 and 8 lanes: there {@link QuantDot#dot} performs {@link #dot1}'s operations in dot1's order
     * (chunk pairs into two accumulators, an odd last chunk into the first, the lanes by
     * {@link #lanesSum}, the scalar tail), so prefill through these tiles equals decode bit for bit.
     * Without tiles, {@link #dot4} reads every token's activations once per row: at 256 bits that was
     * F16 prefill at 0.33x of llama.cpp (docs/benchmarks.md, session 11).
     */
    QuantDot tiles() {
        return null;
    }

    /** Shorts of the float width: twice the lanes, each half widened by {@code part} 0 and 1. */
    VectorSpecies<Short> shortSpecies() {
        throw new UnsupportedOperationException();
    }

    VectorSpecies<Integer> intSpecies() {
        throw new UnsupportedOperationException();
    }

    @Override
    public DType type() {
        return DType.F16;
    }

    @Override
    public MatmulKernel scalar() {
        return SCALAR;
    }

    @Override
    public String toString() {
        return "F16MatmulWiden[" + species().vectorBitSize() + "-bit" + (finite ? ", finite" : "") + "]";
    }

    /** Per-thread landing place for a horizontal sum (one vector). */
    private final ThreadLocal<float[]> sumScratch = ThreadLocal.withInitial(() -> new float[128]);
    /** Per-thread widened weight row, grown to the widest row seen. */
    private final ThreadLocal<float[]> rowBuffer = ThreadLocal.withInitial(() -> new float[0]);

    @Override
    public final void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                             float[] out, int outStride, int rowStart, int rowEnd) {
        float[] hs = sumScratch.get();
        if (finite && n == 1) {
            long rowBytes = 2L * cols;
            if (species().length() == 16) {
                rowsFinite512(w, cols, x, out, rowStart, rowEnd, hs);
                return;
            }
            if (species().length() == 8) {
                rowsFinite256(w, cols, x, out, rowStart, rowEnd, hs);
                return;
            }
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = dotFinite(w, r * rowBytes, cols, x, 0, hs);
            }
            return;
        }
        if (QuantMatmulVector.floatRowBlockTiles(tiles(), WIDEN, w, 2L * cols, cols, x, xStride, n, out, outStride,
                rowStart, rowEnd)) {
            return;
        }
        float[] row = rowBuffer.get();
        if (row.length < cols) {
            row = new float[cols];
            rowBuffer.set(row);
        }
        long rowBytes = 2L * cols;
        int r = rowStart;
        for (; r < rowEnd; r++) {
            long base = r * rowBytes;
            for (int c = 0; c < cols; c++) {
                row[c] = Float.float16ToFloat(w.get(I16_LE, base + 2L * c));
            }
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                dot4(row, cols, x, t * xStride, xStride, out, t * outStride + r, outStride, hs);
            }
            for (; t < n; t++) {
                out[t * outStride + r] = dot1(row, 0, cols, x, t * xStride, hs);
            }
        }
    }

    private float dot1(float[] w, int wo, int cols, float[] x, int xo, float[] hs) {
        VectorSpecies<Float> s = species();
        int l = s.length();
        FloatVector a0 = FloatVector.zero(s);
        FloatVector a1 = FloatVector.zero(s);
        int c = 0;
        for (int end = cols - 2 * l; c <= end; c += 2 * l) {
            FloatVector w0 = FloatVector.fromArray(s, w, wo + c);
            FloatVector w1 = FloatVector.fromArray(s, w, wo + c + l);
            a0 = w0.fma(FloatVector.fromArray(s, x, xo + c), a0);
            a1 = w1.fma(FloatVector.fromArray(s, x, xo + c + l), a1);
        }
        if (c + l <= cols) {
            a0 = FloatVector.fromArray(s, w, wo + c).fma(FloatVector.fromArray(s, x, xo + c), a0);
            c += l;
        }
        float sum = lanesSum(a0.add(a1), hs);
        for (; c < cols; c++) {
            sum = Math.fma(w[wo + c], x[xo + c], sum);
        }
        return sum;
    }

    /**
     * {@link #dot1} of a row read straight from {@code w}: the same accumulators, blocks, lane tree and
     * scalar tail, with each half widened in registers by {@link MinifloatWiden#f16}, exact for zeros,
     * subnormals and normals with no float subnormal formed (the former {@code bits(mag << 13) * 2^112}
     * multiplied subnormal operands, which x86 serves with assists); never called for weights holding
     * infinities or NaNs. A final odd vector block is widened through {@code hs} so that no second short
     * shape enters the loop.
     */
    private float dotFinite(MemorySegment w, long base, int cols, float[] x, int xo, float[] hs) {
        VectorSpecies<Float> s = species();
        VectorSpecies<Short> hsp = shortSpecies();
        VectorSpecies<Integer> is = intSpecies();
        int l = s.length();
        FloatVector a0 = FloatVector.zero(s);
        FloatVector a1 = FloatVector.zero(s);
        int c = 0;
        for (int end = cols - 2 * l; c <= end; c += 2 * l) {
            ShortVector h = ShortVector.fromMemorySegment(hsp, w, base + 2L * c, LE);
            IntVector i0 = (IntVector) h.convertShape(VectorOperators.S2I, is, 0);
            IntVector i1 = (IntVector) h.convertShape(VectorOperators.S2I, is, 1);
            FloatVector w0 = MinifloatWiden.f16(i0);
            FloatVector w1 = MinifloatWiden.f16(i1);
            a0 = w0.fma(FloatVector.fromArray(s, x, xo + c), a0);
            a1 = w1.fma(FloatVector.fromArray(s, x, xo + c + l), a1);
        }
        if (c + l <= cols) {
            for (int k = 0; k < l; k++) {
                hs[k] = Float.float16ToFloat(w.get(I16_LE, base + 2L * (c + k)));
            }
            a0 = FloatVector.fromArray(s, hs, 0).fma(FloatVector.fromArray(s, x, xo + c), a0);
            c += l;
        }
        float sum = lanesSum(a0.add(a1), hs);
        for (; c < cols; c++) {
            sum = Math.fma(Float.float16ToFloat(w.get(I16_LE, base + 2L * c)), x[xo + c], sum);
        }
        return sum;
    }

    /**
     * {@link #dotFinite} at 512 bits for rows {@code [rowStart, rowEnd)} of one token: per row the same
     * values, accumulators (block pair {@code c, c + 16} into a0, a1; a last odd block into a0), lane tree
     * and scalar tail as {@link #dot1}, so decode equals prefill bit for bit. Each 16 halves are one
     * 256-bit load sign-extended to int lanes ({@code vpmovsxwd}) and {@link MinifloatWiden#f16}. The row
     * loop lives in this small static method, and the pair loop is a plain int-counted loop that C2
     * unrolls with its bounds checks hoisted: 1.02-1.09x the former {@code !=}-bounded (not unrolled)
     * loop in one thread, alternated, L3 and DRAM (docs/benchmarks.md, session 7).
     */
    private static void rowsFinite512(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd,
                                      float[] hs) {
        VectorSpecies<Float> s = FloatVector.SPECIES_512;
        int pairs = cols >>> 5;
        long rowBytes = 2L * cols;
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rowBytes;
            FloatVector a0 = FloatVector.zero(s);
            FloatVector a1 = FloatVector.zero(s);
            for (int p = 0; p < pairs; p++) {
                int k = 32 * p;
                a0 = MinifloatWiden.f16(halves(w, base + 2L * k)).fma(FloatVector.fromArray(s, x, k), a0);
                a1 = MinifloatWiden.f16(halves(w, base + 2L * k + 32)).fma(FloatVector.fromArray(s, x, k + 16), a1);
            }
            int c = 32 * pairs;
            if (c + 16 <= cols) {
                a0 = MinifloatWiden.f16(halves(w, base + 2L * c)).fma(FloatVector.fromArray(s, x, c), a0);
                c += 16;
            }
            float sum = lanesSum(a0.add(a1), hs);
            for (; c < cols; c++) {
                sum = Math.fma(Float.float16ToFloat(w.get(I16_LE, base + 2L * c)), x[c], sum);
            }
            out[r] = sum;
        }
    }

    /**
     * {@link #rowsFinite512} at 256 bits: each 8 halves one 128-bit load sign-extended to the int lanes
     * of a 256-bit vector ({@code vpmovsxwd}). {@link #dotFinite}'s 256-bit short load split with
     * {@code convertShape(S2I, .., part)} into two same-size int vectors is not intrinsified by C2 on
     * AVX2 and ran in Java's fallback code: F16 decode at 0.36x of llama.cpp there (docs/benchmarks.md,
     * session 11).
     */
    private static void rowsFinite256(MemorySegment w, int cols, float[] x, float[] out, int rowStart, int rowEnd,
                                      float[] hs) {
        VectorSpecies<Float> s = FloatVector.SPECIES_256;
        int pairs = cols >>> 4;
        long rowBytes = 2L * cols;
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rowBytes;
            FloatVector a0 = FloatVector.zero(s);
            FloatVector a1 = FloatVector.zero(s);
            for (int p = 0; p < pairs; p++) {
                int k = 16 * p;
                a0 = MinifloatWiden.f16(eightHalves(w, base + 2L * k)).fma(FloatVector.fromArray(s, x, k), a0);
                a1 = MinifloatWiden.f16(eightHalves(w, base + 2L * k + 16)).fma(FloatVector.fromArray(s, x, k + 8), a1);
            }
            int c = 16 * pairs;
            if (c + 8 <= cols) {
                a0 = MinifloatWiden.f16(eightHalves(w, base + 2L * c)).fma(FloatVector.fromArray(s, x, c), a0);
                c += 8;
            }
            float sum = lanesSum(a0.add(a1), hs);
            for (; c < cols; c++) {
                sum = Math.fma(Float.float16ToFloat(w.get(I16_LE, base + 2L * c)), x[c], sum);
            }
            out[r] = sum;
        }
    }

    /** The 8 halves at {@code at}, sign-extended to the 8 int lanes of a 256-bit vector. */
    private static IntVector eightHalves(MemorySegment w, long at) {
        return (IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, at, LE)
                .convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0);
    }

    /** The 16 halves at {@code at}, sign-extended to the 16 int lanes of a 512-bit vector (one {@code vpmovsxwd}). */
    private static IntVector halves(MemorySegment w, long at) {
        return (IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_256, w, at, LE)
                .convertShape(VectorOperators.S2I, IntVector.SPECIES_512, 0);
    }

    /** The lanes of {@code v} added in {@link QuantDot#sumLanes}' order, the tiles' order. */
    private static float lanesSum(FloatVector v, float[] hs) {
        v.intoArray(hs, 0);
        return QuantDot.sumLanes(hs, v.length());
    }

    private void dot4(float[] w, int cols, float[] x, int xo, int xs,
                      float[] out, int oo, int os, float[] hs) {
        VectorSpecies<Float> s = species();
        int l = s.length();
        FloatVector a0 = FloatVector.zero(s), a1 = FloatVector.zero(s);
        FloatVector b0 = FloatVector.zero(s), b1 = FloatVector.zero(s);
        FloatVector c0 = FloatVector.zero(s), c1 = FloatVector.zero(s);
        FloatVector d0 = FloatVector.zero(s), d1 = FloatVector.zero(s);
        int xa = xo, xb = xo + xs, xc = xo + 2 * xs, xd = xo + 3 * xs;
        int c = 0;
        for (int end = cols - 2 * l; c <= end; c += 2 * l) {
            FloatVector w0 = FloatVector.fromArray(s, w, c);
            FloatVector w1 = FloatVector.fromArray(s, w, c + l);
            a0 = w0.fma(FloatVector.fromArray(s, x, xa + c), a0);
            a1 = w1.fma(FloatVector.fromArray(s, x, xa + c + l), a1);
            b0 = w0.fma(FloatVector.fromArray(s, x, xb + c), b0);
            b1 = w1.fma(FloatVector.fromArray(s, x, xb + c + l), b1);
            c0 = w0.fma(FloatVector.fromArray(s, x, xc + c), c0);
            c1 = w1.fma(FloatVector.fromArray(s, x, xc + c + l), c1);
            d0 = w0.fma(FloatVector.fromArray(s, x, xd + c), d0);
            d1 = w1.fma(FloatVector.fromArray(s, x, xd + c + l), d1);
        }
        if (c + l <= cols) {
            FloatVector w0 = FloatVector.fromArray(s, w, c);
            a0 = w0.fma(FloatVector.fromArray(s, x, xa + c), a0);
            b0 = w0.fma(FloatVector.fromArray(s, x, xb + c), b0);
            c0 = w0.fma(FloatVector.fromArray(s, x, xc + c), c0);
            d0 = w0.fma(FloatVector.fromArray(s, x, xd + c), d0);
            c += l;
        }
        float sa = lanesSum(a0.add(a1), hs);
        float sb = lanesSum(b0.add(b1), hs);
        float sc = lanesSum(c0.add(c1), hs);
        float sd = lanesSum(d0.add(d1), hs);
        for (; c < cols; c++) {
            float wv = w[c];
            sa = Math.fma(wv, x[xa + c], sa);
            sb = Math.fma(wv, x[xb + c], sb);
            sc = Math.fma(wv, x[xc + c], sc);
            sd = Math.fma(wv, x[xd + c], sd);
        }
        out[oo] = sa;
        out[oo + os] = sb;
        out[oo + 2 * os] = sc;
        out[oo + 3 * os] = sd;
    }

    /** Plain {@link Float#float16ToFloat} over a row: C2 compiles the loop to {@code vcvtph2ps}. */
    private static final QuantMatmulVector.RowWidener WIDEN = (w, base, cols, dst, dstOffset, s) -> {
        for (int c = 0; c < cols; c++) {
            dst[dstOffset + c] = Float.float16ToFloat(w.get(I16_LE, base + 2L * c));
        }
    };

    static final class W512 extends F16MatmulWiden {
        W512(boolean finite) {
            super(finite);
        }

        private final QuantDot tiles = new QuantDot(QuantSpecies.of(FloatVector.SPECIES_512));

        @Override
        QuantDot tiles() {
            return tiles;
        }

        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_512;
        }

        @Override
        VectorSpecies<Short> shortSpecies() {
            return ShortVector.SPECIES_512;
        }

        @Override
        VectorSpecies<Integer> intSpecies() {
            return IntVector.SPECIES_512;
        }
    }

    static final class W256 extends F16MatmulWiden {
        W256(boolean finite) {
            super(finite);
        }

        private final QuantDot tiles = new QuantDot(QuantSpecies.of(FloatVector.SPECIES_256));

        @Override
        QuantDot tiles() {
            return tiles;
        }

        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_256;
        }

        @Override
        VectorSpecies<Short> shortSpecies() {
            return ShortVector.SPECIES_256;
        }

        @Override
        VectorSpecies<Integer> intSpecies() {
            return IntVector.SPECIES_256;
        }
    }

    static final class W128 extends F16MatmulWiden {
        W128(boolean finite) {
            super(finite);
        }

        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_128;
        }

        @Override
        VectorSpecies<Short> shortSpecies() {
            return ShortVector.SPECIES_128;
        }

        @Override
        VectorSpecies<Integer> intSpecies() {
            return IntVector.SPECIES_128;
        }
    }

    static final class W64 extends F16MatmulWiden {
        W64() {
            super(false);
        }

        @Override
        VectorSpecies<Float> species() {
            return FloatVector.SPECIES_64;
        }
    }

    /** Any other width (wide SVE); correct, but C2 cannot specialize it. */
    static final class Any extends F16MatmulWiden {
        private final VectorSpecies<Float> species;

        Any(VectorSpecies<Float> species) {
            super(false);
            this.species = species;
        }

        @Override
        VectorSpecies<Float> species() {
            return species;
        }
    }
}
