package dev.offramp.bench.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Which activation path a one-token Q4_0 / Q8_0 matmul should take on a 512-bit Vector API machine,
 * measured side by side in one JVM (issue 8 asks for this comparison). Each path is a stand-alone
 * copy of one inner loop, not the production kernel, so the candidates differ only in the path:
 * <ul>
 * <li>{@code float}: the production kernel's loop (nibbles/int8 widened to float, times d, FMA with x);</li>
 * <li>{@code floatScaleOut}: the same, d applied once per block to the block's partial sum (changes the
 *     rounding, so it could only ship together with a matching prefill path);</li>
 * <li>{@code int8}: x quantized per 32-block to int8 once per call (as llama.cpp's q8_0 activations),
 *     int8 x int8 products in int16 lanes, summed to int32, one float FMA per block with d * dx — the
 *     Vector API has no VNNI / pmaddwd, so int16 widening is the integer path it offers;</li>
 * <li>{@code lookup} (Q4_0 only): each block's 16 possible weights (v - 8) * d form one float vector and
 *     the nibbles permute it ({@code selectFrom}, vpermd): no per-lane conversion or multiply.</li>
 * </ul>
 * Read the {@code :weightBytes} rows (bytes/s). {@code workingSetMiB=0} keeps one copy of the matrix
 * (cache-resident: the compute bound); 256 streams it from DRAM. The peer is {@code path=float}.
 *
 * <pre>
 * java -jar bench/target/offramp-bench.jar jmh QuantActivationPathBench -f 1 -wi 5 -i 5 -w 2s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class QuantActivationPathBench {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final float[] MINUS_8 = {-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7};

    @Param({"Q4_0", "Q8_0"})
    public String type;

    @Param({"float", "floatScaleOut", "int8", "lookup"})
    public String path;

    @Param({"0", "256"})
    public int workingSetMiB;

    private static final int ROWS = 2048;
    private static final int COLS = 2048;

    private Arena arena;
    private MemorySegment pool;
    private long rowBytes;
    private long matrixBytes;
    private int copies;
    private int next;
    private final float[] x = new float[COLS];
    private final short[] xq = new short[COLS];
    private final float[] dx = new float[COLS / 32];
    private final int[] xsum = new int[COLS / 32];
    private final float[] out = new float[ROWS];

    @Setup(Level.Trial)
    public void setUp() {
        if (path.equals("lookup") && type.equals("Q8_0")) {
            throw new IllegalArgumentException("lookup is a 16-entry table: Q4_0 only");
        }
        int blockBytes = type.equals("Q4_0") ? 18 : 34;
        rowBytes = (long) blockBytes * COLS / 32;
        matrixBytes = rowBytes * ROWS;
        copies = (int) Math.max(1, (workingSetMiB * 1024L * 1024L + matrixBytes - 1) / matrixBytes);
        arena = Arena.ofShared();
        pool = arena.allocate(matrixBytes * copies, 64);
        Random rnd = new Random(42);
        for (long i = 0; i + 8 <= matrixBytes; i += 8) {
            pool.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
        }
        for (long b = 0; b < matrixBytes / blockBytes; b++) {
            pool.set(HALF, b * blockBytes, Float.floatToFloat16((rnd.nextFloat() - 0.5f) * 0.02f));
        }
        for (int c = 1; c < copies; c++) {
            MemorySegment.copy(pool, 0, pool, c * matrixBytes, matrixBytes);
        }
        for (int i = 0; i < COLS; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matvec(WeightBytes counter) {
        long base = matrixBytes * next;
        next = next + 1 == copies ? 0 : next + 1;
        MemorySegment w = pool;
        switch (type + "/" + path) {
            case "Q4_0/float" -> { for (int r = 0; r < ROWS; r++) out[r] = q40Float(w, base + r * rowBytes, x); }
            case "Q4_0/floatScaleOut" -> { for (int r = 0; r < ROWS; r++) out[r] = q40ScaleOut(w, base + r * rowBytes, x); }
            case "Q4_0/lookup" -> { for (int r = 0; r < ROWS; r++) out[r] = q40Lookup(w, base + r * rowBytes, x); }
            case "Q4_0/int8" -> {
                quantize(x, xq, dx, xsum);
                for (int r = 0; r < ROWS; r++) out[r] = q40Int8(w, base + r * rowBytes, xq, dx, xsum);
            }
            case "Q8_0/float" -> { for (int r = 0; r < ROWS; r++) out[r] = q80Float(w, base + r * rowBytes, x); }
            case "Q8_0/floatScaleOut" -> { for (int r = 0; r < ROWS; r++) out[r] = q80ScaleOut(w, base + r * rowBytes, x); }
            case "Q8_0/int8" -> {
                quantize(x, xq, dx, xsum);
                for (int r = 0; r < ROWS; r++) out[r] = q80Int8(w, base + r * rowBytes, xq, dx);
            }
            default -> throw new IllegalStateException(type + "/" + path);
        }
        counter.weightBytes += matrixBytes;
        return out;
    }

    private static float half(MemorySegment w, long at) {
        return Float.float16ToFloat(w.get(HALF, at));
    }

    /** Per 32-block int8 quantization of x (scale max|x| / 127), widened to shorts once, and each block's sum. */
    static void quantize(float[] x, short[] xq, float[] dx, int[] xsum) {
        for (int b = 0; b < x.length / 32; b++) {
            float amax = 0f;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(x[32 * b + i]));
            }
            float d = amax / 127f;
            float id = d == 0f ? 0f : 1f / d;
            int s = 0;
            for (int i = 0; i < 32; i++) {
                int q = Math.round(x[32 * b + i] * id);
                xq[32 * b + i] = (short) q;
                s += q;
            }
            dx[b] = d;
            xsum[b] = s;
        }
    }

    static float q40Float(MemorySegment w, long base, float[] x) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < COLS / 32; b += 2) {
            long blk = base + 18L * b;
            int xi = 32 * b;
            ByteVector q0 = ByteVector.fromMemorySegment(B128, w, blk + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector q1 = ByteVector.fromMemorySegment(B128, w, blk + 20, ByteOrder.LITTLE_ENDIAN);
            float d0 = half(w, blk);
            float d1 = half(w, blk + 18);
            a0 = ((FloatVector) q0.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(FloatVector.fromArray(F, x, xi), a0);
            a1 = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(FloatVector.fromArray(F, x, xi + 16), a1);
            a2 = ((FloatVector) q1.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(FloatVector.fromArray(F, x, xi + 32), a2);
            a3 = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(FloatVector.fromArray(F, x, xi + 48), a3);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    static float q40ScaleOut(MemorySegment w, long base, float[] x) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < COLS / 32; b += 2) {
            long blk = base + 18L * b;
            int xi = 32 * b;
            ByteVector q0 = ByteVector.fromMemorySegment(B128, w, blk + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector q1 = ByteVector.fromMemorySegment(B128, w, blk + 20, ByteOrder.LITTLE_ENDIAN);
            FloatVector p0 = ((FloatVector) q0.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xi));
            p0 = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xi + 16), p0);
            FloatVector p1 = ((FloatVector) q1.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xi + 32));
            p1 = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xi + 48), p1);
            a0 = p0.fma(FloatVector.broadcast(F, half(w, blk)), a0);
            a1 = p1.fma(FloatVector.broadcast(F, half(w, blk + 18)), a1);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    static float q40Lookup(MemorySegment w, long base, float[] x) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        FloatVector values = FloatVector.fromArray(F, MINUS_8, 0);
        for (int b = 0; b < COLS / 32; b += 2) {
            long blk = base + 18L * b;
            int xi = 32 * b;
            ByteVector q0 = ByteVector.fromMemorySegment(B128, w, blk + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector q1 = ByteVector.fromMemorySegment(B128, w, blk + 20, ByteOrder.LITTLE_ENDIAN);
            IntVector t0 = values.mul(half(w, blk)).reinterpretAsInts();
            IntVector t1 = values.mul(half(w, blk + 18)).reinterpretAsInts();
            a0 = ((IntVector) q0.and((byte) 15).convertShape(VectorOperators.B2I, I512, 0)).selectFrom(t0).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi), a0);
            a1 = ((IntVector) q0.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2I, I512, 0)).selectFrom(t0).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + 16), a1);
            a2 = ((IntVector) q1.and((byte) 15).convertShape(VectorOperators.B2I, I512, 0)).selectFrom(t1).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + 32), a2);
            a3 = ((IntVector) q1.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2I, I512, 0)).selectFrom(t1).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + 48), a3);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Unsigned nibbles (0..15) times int8 x: |product| <= 1905, so a block's low and high halves add in
     * int16 lanes without overflow; sum((v - 8) x) = sum(v x) - 8 sum(x) exactly in integers.
     */
    static float q40Int8(MemorySegment w, long base, short[] xq, float[] dx, int[] xsum) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < COLS / 32; b += 2) {
            long blk = base + 18L * b;
            int xi = 32 * b;
            ByteVector q0 = ByteVector.fromMemorySegment(B128, w, blk + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector q1 = ByteVector.fromMemorySegment(B128, w, blk + 20, ByteOrder.LITTLE_ENDIAN);
            ShortVector s0 = ((ShortVector) q0.and((byte) 15).convertShape(VectorOperators.B2S, S256, 0)).mul(ShortVector.fromArray(S256, xq, xi))
                    .add(((ShortVector) q0.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2S, S256, 0)).mul(ShortVector.fromArray(S256, xq, xi + 16)));
            ShortVector s1 = ((ShortVector) q1.and((byte) 15).convertShape(VectorOperators.B2S, S256, 0)).mul(ShortVector.fromArray(S256, xq, xi + 32))
                    .add(((ShortVector) q1.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2S, S256, 0)).mul(ShortVector.fromArray(S256, xq, xi + 48)));
            // The -8 offset as one scalar per block, spread over the 16 lanes (exact: 8 * sum / 16 = sum / 2).
            FloatVector f0 = ((FloatVector) s0.convertShape(VectorOperators.S2F, F, 0)).sub(xsum[b] * 0.5f);
            FloatVector f1 = ((FloatVector) s1.convertShape(VectorOperators.S2F, F, 0)).sub(xsum[b + 1] * 0.5f);
            a0 = f0.fma(FloatVector.broadcast(F, half(w, blk) * dx[b]), a0);
            a1 = f1.fma(FloatVector.broadcast(F, half(w, blk + 18) * dx[b + 1]), a1);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    static float q80Float(MemorySegment w, long base, float[] x) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < COLS / 32; b += 2) {
            long blk = base + 34L * b;
            int xi = 32 * b;
            float d0 = half(w, blk);
            float d1 = half(w, blk + 34);
            a0 = widen(w, blk + 2).mul(d0).fma(FloatVector.fromArray(F, x, xi), a0);
            a1 = widen(w, blk + 18).mul(d0).fma(FloatVector.fromArray(F, x, xi + 16), a1);
            a2 = widen(w, blk + 36).mul(d1).fma(FloatVector.fromArray(F, x, xi + 32), a2);
            a3 = widen(w, blk + 52).mul(d1).fma(FloatVector.fromArray(F, x, xi + 48), a3);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    static float q80ScaleOut(MemorySegment w, long base, float[] x) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < COLS / 32; b += 2) {
            long blk = base + 34L * b;
            int xi = 32 * b;
            FloatVector p0 = widen(w, blk + 18).fma(FloatVector.fromArray(F, x, xi + 16), widen(w, blk + 2).mul(FloatVector.fromArray(F, x, xi)));
            FloatVector p1 = widen(w, blk + 52).fma(FloatVector.fromArray(F, x, xi + 48), widen(w, blk + 36).mul(FloatVector.fromArray(F, x, xi + 32)));
            a0 = p0.fma(FloatVector.broadcast(F, half(w, blk)), a0);
            a1 = p1.fma(FloatVector.broadcast(F, half(w, blk + 34)), a1);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector widen(MemorySegment w, long at) {
        return (FloatVector) ByteVector.fromMemorySegment(B128, w, at, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
    }

    /**
     * int8 x int8 in int16 lanes (|product| <= 16384 fits), then the two int16 halves widened to int32
     * and added: the pairwise step VNNI / pmaddwd would do in one instruction.
     */
    static float q80Int8(MemorySegment w, long base, short[] xq, float[] dx) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < COLS / 32; b += 2) {
            long blk = base + 34L * b;
            int xi = 32 * b;
            ShortVector p0 = ((ShortVector) ByteVector.fromMemorySegment(B256, w, blk + 2, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, S512, 0)).mul(ShortVector.fromArray(S512, xq, xi));
            ShortVector p1 = ((ShortVector) ByteVector.fromMemorySegment(B256, w, blk + 36, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, S512, 0)).mul(ShortVector.fromArray(S512, xq, xi + 32));
            IntVector i0 = ((IntVector) p0.convertShape(VectorOperators.S2I, I512, 0)).add((IntVector) p0.convertShape(VectorOperators.S2I, I512, 1));
            IntVector i1 = ((IntVector) p1.convertShape(VectorOperators.S2I, I512, 0)).add((IntVector) p1.convertShape(VectorOperators.S2I, I512, 1));
            a0 = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, half(w, blk) * dx[b]), a0);
            a1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, half(w, blk + 34) * dx[b + 1]), a1);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }
}
