package dev.offramp.bench.kernels;

import dev.offramp.core.tensor.DType;
import dev.offramp.kernels.cpu.matmul.MatmulKernel;
import dev.offramp.kernels.cpu.matmul.QuantMatmulScalars;
import dev.offramp.kernels.cpu.matmul.QuantMatmulVectors;
import jdk.incubator.vector.LongVector;
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

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Quantized matmul throughput in bytes of weights streamed per second, one thread, at decode shapes
 * (one token: n = 1) of TinyLlama-1.1B (2048x2048 attention, 5632x2048 FFN). The matrix is replicated
 * into a working set larger than the last-level cache and the copies are used in turn, so each call
 * streams its weights from DRAM as a real decode step does.
 *
 * <p>Peer in the same run: {@link #readBandwidth}, a plain vector sum over the same bytes, the read
 * bandwidth ceiling a one-thread kernel can reach; and the scalar twin ({@code kernel=scalar}).
 * Read the {@code :weightBytes} rows: ops/s there are bytes/s.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/offramp-bench.jar org.openjdk.jmh.Main QuantMatmulBench
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class QuantMatmulBench {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;

    @Param({"Q4_0", "Q8_0", "Q4_K", "Q6_K", "Q5_K", "Q4_1", "Q5_0", "Q5_1", "Q3_K", "Q2_K"})
    public String type;

    /** rows x cols of the weight matrix. */
    @Param({"2048x2048", "5632x2048"})
    public String shape;

    /** {@code vector} (preferred species) or {@code scalar} (the twin). */
    @Param({"vector"})
    public String kernel;

    /** Tokens per call. */
    @Param({"1"})
    public int n;

    /** Working set in MiB across which the matrix copies are spread (over the 32 MiB L3 here). */
    @Param({"256"})
    public int workingSetMiB;

    private WeightPool weights;
    private long matrixBytes;
    private int rows;
    private int cols;
    private MatmulKernel k;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        DType t = DType.valueOf(type);
        String[] rc = shape.split("x");
        rows = Integer.parseInt(rc[0]);
        cols = Integer.parseInt(rc[1]);
        matrixBytes = t.bytesFor((long) rows * cols);
        Random rnd = new Random(42);
        weights = new WeightPool(matrixBytes, workingSetMiB, rnd);
        MemorySegment first = weights.first();
        int[] halves = switch (t) {
            case Q4_0, Q5_0, Q8_0 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException("not a quantized type: " + t);
        };
        for (long b = 0; b < matrixBytes / t.blockBytes(); b++) {
            for (int h : halves) {
                first.set(HALF, b * t.blockBytes() + h, Float.floatToFloat16((rnd.nextFloat() - 0.5f) * 0.02f));
            }
        }
        weights.replicate();
        k = kernel.equals("scalar") ? QuantMatmulScalars.forType(t).orElseThrow()
                : QuantMatmulVectors.forType(t, 0).orElseThrow();
        x = new float[n * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        out = new float[n * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        weights.close();
    }

    @Benchmark
    public float[] matmul(WeightBytes b) {
        k.matmul(weights.next(), cols, x, cols, n, out, rows, 0, rows);
        b.weightBytes += matrixBytes;
        return out;
    }

    /** Peer: the same bytes read with plain vector loads and integer adds (the read-bandwidth ceiling). */
    @Benchmark
    public long readBandwidth(WeightBytes b) {
        MemorySegment m = weights.next();
        LongVector acc0 = LongVector.zero(LONGS);
        LongVector acc1 = acc0;
        long step = LONGS.vectorByteSize();
        long i = 0;
        for (long end = matrixBytes - 2 * step; i <= end; i += 2 * step) {
            acc0 = acc0.add(LongVector.fromMemorySegment(LONGS, m, i, ByteOrder.LITTLE_ENDIAN));
            acc1 = acc1.add(LongVector.fromMemorySegment(LONGS, m, i + step, ByteOrder.LITTLE_ENDIAN));
        }
        b.weightBytes += matrixBytes;
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD) + i;
    }
}
