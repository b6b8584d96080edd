package dev.offramp.bench.kernels;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.Fp8E4M3;
import dev.offramp.kernels.cpu.matmul.MatmulKernel;
import dev.offramp.kernels.cpu.matmul.MatmulKernels;
import dev.offramp.kernels.cpu.matmul.VectorMatmulKernels;
import jdk.incubator.vector.FloatVector;
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
 * FP8 ({@link DType#F8_E4M3_G128}) and INT4 ({@link DType#I4_G128}) matvec against their ggml peers
 * Q8_0 and Q4_0 in the same run, in weight bytes streamed per second (read the {@code :weightBytes}
 * rows), one thread, one token, from a working set larger than the last-level cache (as in
 * {@link QuantMatmulBench}). Kernels come from the same registries the CPU backend uses.
 *
 * <pre>
 * java -jar bench/target/offramp-bench.jar jmh Fp8Int4MatmulBench -wi 2 -i 3 -w 1s -r 1s
 * java -jar bench/target/offramp-bench.jar jmh Fp8Int4MatmulBench -p type=F8_E4M3_G128 -p fp8Codes=random,gaussian
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class Fp8Int4MatmulBench {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Param({"F8_E4M3_G128", "Q8_0", "I4_G128", "Q4_0"})
    public String type;

    /** rows x cols of the weight matrix. */
    @Param({"5632x2048"})
    public String shape;

    /** {@code vector} (preferred species) or {@code scalar} (the twin). */
    @Param({"vector"})
    public String kernel;

    @Param({"256"})
    public int workingSetMiB;

    /**
     * FP8 codes only: {@code random} bytes (1 in 16 has exponent 0, 2 in 256 are NaN codes), or
     * {@code gaussian}: N(0,1) weights encoded per group of 128 with scale {@code amax / 448}, the way
     * FP8 checkpoints are made, where exponent-0 codes are rare. The FP8 kernel used to depend on it
     * (its old decode multiplied float subnormals, which cost x86 assists); since MinifloatWiden it
     * should not, and this parameter is how to check that it stays so.
     */
    @Param({"random"})
    public String fp8Codes;

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
        long rb = t.bytesFor(cols);
        switch (t) {
            case Q8_0, Q4_0 -> {
                for (long b = 0; b < matrixBytes / t.blockBytes(); b++) {
                    first.set(HALF, b * t.blockBytes(), Float.floatToFloat16((rnd.nextFloat() - 0.5f) * 0.02f));
                }
            }
            case F8_E4M3_G128, I4_G128 -> {
                boolean gaussian = t == DType.F8_E4M3_G128 && fp8Codes.equals("gaussian");
                float[] v = new float[128];
                for (long r = 0; r < rows; r++) {
                    for (int g = 0; g < cols / 128; g++) {
                        float scale = (rnd.nextFloat() + 0.5f) * 0.01f;
                        if (gaussian) {
                            float amax = 0f;
                            for (int i = 0; i < 128; i++) {
                                v[i] = (float) rnd.nextGaussian();
                                amax = Math.max(amax, Math.abs(v[i]));
                            }
                            scale = amax / Fp8E4M3.MAX;
                            long data = r * rb + 4L * (cols / 128) + 128L * g;
                            for (int i = 0; i < 128; i++) {
                                first.set(ValueLayout.JAVA_BYTE, data + i, Fp8E4M3.encode(v[i] / scale));
                            }
                        }
                        first.set(F32, r * rb + 4L * g, scale);
                    }
                }
            }
            default -> throw new IllegalArgumentException("not compared here: " + t);
        }
        weights.replicate();
        k = kernel.equals("scalar") ? MatmulKernels.scalar(t).orElseThrow()
                : VectorMatmulKernels.forType(t, FloatVector.SPECIES_PREFERRED).orElseThrow();
        x = new float[cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        out = new float[rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        weights.close();
    }

    @Benchmark
    public float[] matmul(WeightBytes b) {
        k.matmul(weights.next(), cols, x, cols, 1, out, rows, 0, rows);
        b.weightBytes += matrixBytes;
        return out;
    }
}
