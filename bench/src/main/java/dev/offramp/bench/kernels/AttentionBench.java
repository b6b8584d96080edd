package dev.offramp.bench.kernels;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.KvCache;
import dev.offramp.core.tensor.DType;
import dev.offramp.kernels.cpu.CpuActivations;
import dev.offramp.kernels.cpu.CpuBackend;
import dev.offramp.kernels.cpu.VectorWidth;
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

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One decode step of attention for one layer at TinyLlama-1.1B's shape (32 query heads, 4 KV heads,
 * head size 64) over {@code context} cached positions, through {@code CpuBackend.attention}.
 * Peer in the same run: {@code width=scalar} (the scalar twin).
 *
 * <pre>
 * java -jar bench/target/offramp-bench.jar jmh AttentionBench
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBench {
    static final int HEADS = 32, KV_HEADS = 4, HEAD_DIM = 64;

    @Param({"F32", "F16"})
    public String cache;

    @Param({"preferred", "scalar"})
    public String width;

    @Param({"1024"})
    public int context;

    @Param({"1"})
    public int threads;

    private CpuBackend backend;
    private KvCache kv;
    private Activations q;
    private Activations out;
    private int[] pos;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend(threads, width.equals("scalar") ? VectorWidth.SCALAR : VectorWidth.PREFERRED);
        int kvDim = KV_HEADS * HEAD_DIM;
        kv = backend.allocateKvCache(1, context, kvDim, DType.valueOf(cache));
        Random rnd = new Random(1);
        Activations k = backend.allocate(context, kvDim), v = backend.allocate(context, kvDim);
        for (float[] a : new float[][]{((CpuActivations) k).array(), ((CpuActivations) v).array()}) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) rnd.nextGaussian();
            }
        }
        int[] all = new int[context];
        for (int i = 0; i < context; i++) {
            all[i] = i;
        }
        backend.kvWrite(kv, 0, k, v, context, all);
        q = backend.allocate(1, HEADS * HEAD_DIM);
        float[] qa = ((CpuActivations) q).array();
        for (int i = 0; i < qa.length; i++) {
            qa[i] = (float) rnd.nextGaussian();
        }
        out = backend.allocate(1, HEADS * HEAD_DIM);
        pos = new int[]{context - 1};
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public Activations decodeStep() {
        backend.attention(q, kv, 0, 1, pos, HEADS, KV_HEADS, HEAD_DIM, out);
        return out;
    }
}
