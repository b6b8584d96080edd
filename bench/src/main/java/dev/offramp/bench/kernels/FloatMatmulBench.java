package dev.offramp.bench.kernels;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Weight;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.kernels.cpu.CpuActivations;
import dev.offramp.kernels.cpu.CpuBackend;
import dev.offramp.kernels.cpu.VectorWidth;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * F32/F16/BF16 matmul through the CPU backend (its worker pool included), in bytes of weights
 * streamed per second, at decode shapes (n = 1) of TinyLlama-1.1B: 2048x2048 (attention) and
 * 5632x2048 (FFN). The matrix is replicated over a working set larger than the last-level cache and
 * the copies are used in turn, so every call streams its weights from DRAM as a decode step does.
 *
 * <p>Peers in the same run: {@link #readBandwidth} (a one-thread vector sum of the same bytes: the
 * read ceiling of one core), and {@code width=scalar} (the scalar twins). Read the
 * {@code :weightBytes} rows: ops/s there are bytes/s.
 *
 * <pre>
 * java -jar bench/target/offramp-bench.jar jmh FloatMatmulBench -p threads=1
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class FloatMatmulBench {
    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;

    @Param({"F32", "F16", "BF16"})
    public String type;

    /** rows x cols of the weight matrix. */
    @Param({"2048x2048", "5632x2048"})
    public String shape;

    /** {@code preferred} (Vector API), {@code 256} / {@code 128} (forced narrower), or {@code scalar}. */
    @Param({"preferred"})
    public String width;

    /** Backend threads (1 = the calling thread only). */
    @Param({"1"})
    public int threads;

    /** Tokens per call (1 = decode; more = prefill tile). */
    @Param({"1"})
    public int n;

    /** Working set in MiB over which the matrix copies are spread. */
    @Param({"256"})
    public int workingSetMiB;

    private Arena arena;
    private CpuBackend backend;
    private Weight[] weights;
    private MemorySegment[] segments;
    private long matrixBytes;
    private int next;
    private Activations x;
    private Activations out;

    @Setup(Level.Trial)
    public void setUp() {
        DType t = DType.valueOf(type);
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]);
        int cols = Integer.parseInt(rc[1]);
        matrixBytes = t.bytesFor((long) rows * cols);
        int copies = (int) Math.max(1, (workingSetMiB * 1024L * 1024L + matrixBytes - 1) / matrixBytes);
        arena = Arena.ofShared();
        Random rnd = new Random(42);
        MemorySegment first = arena.allocate(matrixBytes, 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            float v = (float) (rnd.nextGaussian() * 0.02);
            switch (t) {
                case F32 -> first.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, v);
                case F16 -> first.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, Float.floatToFloat16(v));
                case BF16 -> first.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i,
                        (short) (Float.floatToRawIntBits(v) >>> 16));
                default -> throw new IllegalArgumentException("FloatMatmulBench covers F32/F16/BF16, not " + t);
            }
        }
        VectorWidth w = switch (width) {
            case "preferred" -> VectorWidth.PREFERRED;
            case "scalar" -> VectorWidth.SCALAR;
            default -> VectorWidth.bits(Integer.parseInt(width));
        };
        backend = new CpuBackend(threads, w);
        weights = new Weight[copies];
        segments = new MemorySegment[copies];
        for (int c = 0; c < copies; c++) {
            MemorySegment s = c == 0 ? first : arena.allocate(matrixBytes, 64);
            if (c > 0) {
                MemorySegment.copy(first, 0, s, 0, matrixBytes);
            }
            segments[c] = s;
            weights[c] = backend.prepare(new Tensor("w" + c, t, new long[]{rows, cols}, s));
        }
        x = backend.allocate(n, cols);
        float[] xs = ((CpuActivations) x).array();
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) rnd.nextGaussian();
        }
        out = backend.allocate(n, rows);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
        arena.close();
    }

    private int nextCopy() {
        int c = next;
        next = c + 1 == weights.length ? 0 : c + 1;
        return c;
    }

    @Benchmark
    public Activations matmul(WeightBytes b) {
        backend.matmul(weights[nextCopy()], x, n, out);
        b.weightBytes += matrixBytes;
        return out;
    }

    /** Peer: the same bytes read by one thread with plain vector loads and integer adds. */
    @Benchmark
    public long readBandwidth(WeightBytes b) {
        MemorySegment m = segments[nextCopy()];
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
