package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.Supplier;
import java.util.stream.LongStream;

/**
 * The part the int8-activation kernels share (Q4_0, Q4_K, Q6_K, Q8_0): a weight repacked once into groups
 * of rows, one row per 16-bit lane of the machine's vector (32 rows at 512 bits, 16 at 256; see
 * {@link Int4LaneSums}), the walk over the groups a call's rows touch, tokens four at a time then one at a time
 * (or first as many as a type's {@link #allTokens} takes), and the fallback to the scalar twin for any other
 * segment (same bits). A type supplies its layout and the group loops.
 *
 * <p>A group's bytes are contiguous, group after group. At 256 bits the decode loop and the four-token
 * prefill loop take two groups at a time ({@link #PAIR_GROUPS}), broadcasting each activation once for
 * both groups' {@code vpmullw} (the 512-bit layout's 32 rows taken as two 256-bit halves); the two groups
 * are then two forward streams a group's bytes apart, which one core's prefetchers serve at ~1.8x the
 * rate of one stream holding both groups' blocks in turn (docs/benchmarks.md, session 12).
 *
 * <p>A group is computed whole; a row range that cuts one writes only its rows, so any split gives the
 * same bits and the backend splits at multiples of {@link #rowGroup()} to waste nothing.
 */
abstract sealed class Int8RowGroupKernel implements MatmulKernel
        permits Q4_0Int8MatmulVector, Q4_KInt8MatmulVector, Q6_KInt8MatmulVector, Q8_0Int8MatmulVector {
    /** Rows per group: the short lanes of the machine's vector. */
    static final int GROUP = Int4LaneSums.GROUP;
    /** Half a group: the float lanes of a vector. */
    static final int HALF = Int4LaneSums.HALF;
    /**
     * Groups one pass takes: 2 at 256 bits, where one group's decode loop was bound by its activation
     * broadcasts (1.31x from L3 for two groups per broadcast, docs/benchmarks.md, session 11), 1 at 512
     * bits, where a group is already 32 rows.
     */
    static final int PAIR_GROUPS = GROUP == 16 ? 2 : 1;
    /** Bytes of one vector of a group (two per row). */
    static final int LINE = Int4LaneSums.LINE;
    /** The species and layouts every repacked kernel reads with (its lanes are rows, little-endian). */
    static final VectorSpecies<Short> S = Int4LaneSums.S;
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, S.vectorShape());
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    /** Bytes widened to a vector of ints: {@link #HALF} of them. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * HALF));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final DType type;
    private final Int8Scheme scheme;
    private final MatmulKernel scalar;
    /** The weight as the model holds it, and its repacked copy. */
    final MemorySegment source;
    final MemorySegment packed;
    final long rows;
    final int cols;

    /** Per-thread buffers; kernels are shared by the worker threads. */
    static final class Scratch {
        private final Int8Activations q8_0 = new Int8Activations(Int8Scheme.Q8_0);
        private final Int8Activations q8_K = new Int8Activations(Int8Scheme.Q8_K);
        /**
         * One group's outputs for up to four tokens: token k, row i at {@code GROUP k + i}; a pair's
         * second group from {@code 4 GROUP}.
         */
        final float[] tile = new float[8 * GROUP];
        /** A type's 16-bit block sums of one group, up to four tokens. */
        private short[] sums = new short[0];
        /** One group's outputs for all of a call's tokens ({@link #allTokens}): token k, row i at {@code GROUP k + i}. */
        private float[] many = new float[0];
        /** One block of a group's weights widened to floats, for {@link #allTokens}. */
        final float[] widened = new float[32 * GROUP];

        float[] many(int size) {
            if (many.length < size) {
                many = new float[size];
            }
            return many;
        }

        short[] sums(int size) {
            if (sums.length < size) {
                sums = new short[size];
            }
            return sums;
        }

        Int8Activations activations(Int8Scheme scheme) {
            return scheme == Int8Scheme.Q8_0 ? q8_0 : q8_K;
        }
    }

    Int8RowGroupKernel(DType type, Int8Scheme scheme, MatmulKernel scalar, MemorySegment source,
                       MemorySegment packed, long rows, int cols) {
        this.type = type;
        this.scheme = scheme;
        this.scalar = scalar;
        this.source = source;
        this.packed = packed;
        this.rows = rows;
        this.cols = cols;
    }

    /**
     * Whether a repacked kernel can take a {@code rows} x {@code cols} weight of {@code type} (whole
     * blocks per row, a machine with 256- or 512-bit vectors), checking that {@code w} is large enough
     * (else a clear error naming the sizes).
     */
    static boolean accepts(DType type, MemorySegment w, long rows, int cols) {
        if (!Int4LaneSums.supported() || cols <= 0 || cols % type.blockSize() != 0 || rows < 1) {
            return false;
        }
        long need = rows * type.bytesFor(cols);
        if (need > w.byteSize()) {
            throw new IllegalArgumentException(type + " weight of " + rows + " x " + cols + " needs " + need
                    + " bytes, the segment has " + w.byteSize());
        }
        return true;
    }

    /**
     * Groups that {@code rows} rows fill, the last one possibly in part, rounded up to whole pairs
     * (a group past the last row holds zero weights).
     */
    static long groups(long rows) {
        long pairs = (rows + PAIR_GROUPS * GROUP - 1) / (PAIR_GROUPS * GROUP);
        return pairs * PAIR_GROUPS;
    }

    /**
     * Copies the rows of group {@code g} that lie below {@code rows} ({@code rowBytes} each) from {@code w}
     * into {@code stage} in one copy, and returns how many there are: a pair's last group may lie wholly
     * past the last row (0). Repacking reads the heap copy: segment accesses a value at a time were most
     * of a model's load time.
     */
    static int stageRows(MemorySegment w, long rows, int rowBytes, long g, byte[] stage) {
        int real = (int) Math.max(0, Math.min(GROUP, rows - g * GROUP));
        if (real > 0) {
            MemorySegment.copy(w, ValueLayout.JAVA_BYTE, g * GROUP * rowBytes, stage, 0, real * rowBytes);
        }
        return real;
    }

    /** Repacks whole groups; each repacking thread gets its own, so its staging buffers are its own. */
    interface GroupRepacker {
        void repack(long g);
    }

    /** Groups a repacking thread claims at a time. */
    private static final int REPACK_CHUNK = 8;

    /**
     * Runs {@code perThread}'s repackers over groups {@code [0, groups)} on the common fork-join pool (all
     * cores: a model's load is one repack after another, and a repack is a byte transpose that one core
     * ran at 1-2 s per GB), or on the caller alone when {@code w} is confined to it.
     */
    static void repackGroups(MemorySegment w, long groups, Supplier<GroupRepacker> perThread) {
        long chunks = (groups + REPACK_CHUNK - 1) / REPACK_CHUNK;
        if (chunks < 2 || !w.isAccessibleBy(Thread.ofPlatform().unstarted(() -> { }))) {
            GroupRepacker r = perThread.get();
            for (long g = 0; g < groups; g++) {
                r.repack(g);
            }
            return;
        }
        ThreadLocal<GroupRepacker> own = ThreadLocal.withInitial(perThread);
        LongStream.range(0, chunks).parallel().forEach(c -> {
            GroupRepacker r = own.get();
            for (long g = c * REPACK_CHUNK, end = Math.min(groups, g + REPACK_CHUNK); g < end; g++) {
                r.repack(g);
            }
        });
    }

    /** Zeroed memory for {@code groups} groups of {@code groupBytes}, kept as long as the kernel. */
    static MemorySegment allocate(long groups, long groupBytes) {
        return Arena.ofAuto().allocate(groups * groupBytes, 64);
    }

    /** Token {@code t} against group {@code g}: row i into {@code dst[o + i]}. */
    abstract void oneToken(int g, Int8Activations x, int t, float[] dst, int o, Scratch s);

    /**
     * Token 0 against groups {@code g} and {@code g + 1} (only when {@link #PAIR_GROUPS} is 2): their rows into {@code dst[o ..]}, {@code 2 GROUP} of them.
     */
    abstract void oneTokenTwoGroups(int g, Int8Activations x, float[] dst, int o, Scratch s);

    /** Tokens {@code t .. t + 3} against group {@code g} into {@code s.tile}. */
    abstract void fourTokens(int g, Int8Activations x, int t, Scratch s);

    /**
     * Tokens {@code t .. t + 3} against groups {@code g} and {@code g + 1} (only when
     * {@link #PAIR_GROUPS} is 2), each activation broadcast shared by both groups: group g into
     * {@code s.tile} as {@link #fourTokens}, group g + 1 from {@code s.tile[4 GROUP]}.
     */
    abstract void fourTokensTwoGroups(int g, Int8Activations x, int t, Scratch s);

    /**
     * Tokens {@code [0, k)} against group {@code g} into {@code s.many(k GROUP)}, token t, row i at
     * {@code GROUP t + i}, for a {@code k <= n} of the type's choosing, returned; the rest go four at a
     * time ({@link #fourTokens}) and then one at a time. The default takes none. A type overrides it
     * where a group's weights are worth converting once per block for all of a call's tokens rather than
     * once per four.
     */
    int allTokens(int g, Int8Activations x, int n, Scratch s) {
        return 0;
    }

    @Override
    public final DType type() {
        return type;
    }

    @Override
    public final MatmulKernel scalar() {
        return scalar;
    }

    @Override
    public final Int8Scheme int8Activations() {
        return scheme;
    }

    @Override
    public final int rowGroup() {
        return PAIR_GROUPS * GROUP;
    }

    @Override
    public final void quantize(Int8Activations a, float[] x, int xStride, int n, int cols) {
        Int8ActivationsVector.quantize(a, x, xStride, n, cols);
    }

    @Override
    public final void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                             float[] out, int outStride, int rowStart, int rowEnd) {
        QuantMatmulArgs.check(type, w, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        if (n == 0) {
            return;
        }
        Int8Activations a = SCRATCH.get().activations(scheme);
        quantize(a, x, xStride, n, cols);
        matmul(w, cols, a, n, out, outStride, rowStart, rowEnd);
    }

    @Override
    public final void matmul(MemorySegment w, int cols, Int8Activations x, int n,
                             float[] out, int outStride, int rowStart, int rowEnd) {
        QuantMatmulArgs.check(type, scheme, w, cols, x, n, out, outStride, rowStart, rowEnd);
        if (w != source || cols != this.cols || rowEnd > rows) {
            scalar.matmul(w, cols, x, n, out, outStride, rowStart, rowEnd);
            return;
        }
        Scratch s = SCRATCH.get();
        for (int g = rowStart / GROUP; g * GROUP < rowEnd && n > 0; g++) {
            int r0 = g * GROUP;
            int t = 0;
            if (PAIR_GROUPS == 2 && g % 2 == 0 && n >= 4 && r0 + GROUP < rowEnd) {
                t = allTokens(g, x, n, s);
                putMany(s, t, out, outStride, r0, rowStart, rowEnd);
                if (t > 0) {
                    allTokens(g + 1, x, n, s);
                    putMany(s, t, out, outStride, r0 + GROUP, rowStart, rowEnd);
                }
                // prefill over both groups of a pair: each activation broadcast feeds two groups
                for (; t + 4 <= n; t += 4) {
                    fourTokensTwoGroups(g, x, t, s);
                    for (int k = 0; k < 4; k++) {
                        put(s.tile, GROUP * k, out, (t + k) * outStride, r0, rowStart, rowEnd);
                        put(s.tile, 4 * GROUP + GROUP * k, out, (t + k) * outStride, r0 + GROUP, rowStart, rowEnd);
                    }
                }
                for (; t < n; t++) {
                    for (int h = 0; h < 2; h++) {
                        oneToken(g + h, x, t, s.tile, 0, s);
                        put(s.tile, 0, out, t * outStride, r0 + GROUP * h, rowStart, rowEnd);
                    }
                }
                g++;
                continue;
            }
            if (n >= 4) {
                t = allTokens(g, x, n, s);
                putMany(s, t, out, outStride, r0, rowStart, rowEnd);
            }
            for (; t + 4 <= n; t += 4) {
                fourTokens(g, x, t, s);
                for (int k = 0; k < 4; k++) {
                    put(s.tile, GROUP * k, out, (t + k) * outStride, r0, rowStart, rowEnd);
                }
            }
            for (; t < n; t++) {
                if (n == 1 && PAIR_GROUPS == 2 && g % 2 == 0 && r0 >= rowStart && r0 + 2 * GROUP <= rowEnd) {
                    oneTokenTwoGroups(g, x, out, r0, s); // decode, a whole pair: straight into out
                    g++;
                } else if (n == 1 && r0 >= rowStart && r0 + GROUP <= rowEnd) {
                    oneToken(g, x, 0, out, r0, s); // decode, whole group: straight into out
                } else {
                    oneToken(g, x, t, s.tile, 0, s);
                    put(s.tile, 0, out, t * outStride, r0, rowStart, rowEnd);
                }
            }
        }
    }

    /** {@link #allTokens}' outputs of tokens {@code [0, m)} into {@code out}, as {@link #put} each. */
    private static void putMany(Scratch s, int m, float[] out, int outStride, int r0, int rowStart, int rowEnd) {
        float[] many = s.many(m * GROUP);
        for (int k = 0; k < m; k++) {
            put(many, GROUP * k, out, k * outStride, r0, rowStart, rowEnd);
        }
    }

    /** Rows {@code [max(r0, rowStart), min(r0 + GROUP, rowEnd))} of one group's outputs into {@code out[o + r]}. */
    private static void put(float[] tile, int from, float[] out, int o, int r0, int rowStart, int rowEnd) {
        for (int r = Math.max(r0, rowStart), end = Math.min(r0 + GROUP, rowEnd); r < end; r++) {
            out[o + r] = tile[from + r - r0];
        }
    }

    @Override
    public final String toString() {
        return getClass().getSimpleName() + "[" + rows + " x " + cols + "]";
    }
}
