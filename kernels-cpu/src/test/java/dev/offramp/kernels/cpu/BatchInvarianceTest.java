package dev.offramp.kernels.cpu;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.KvCache;
import dev.offramp.core.backend.RopeTable;
import dev.offramp.core.backend.Weight;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Batch invariance and determinism of the whole backend: a small random transformer block (every
 * op: embed, rmsnorm, matmul, rope, kvWrite, attention, add, siluMul) run as one prefill batch must
 * give bit-identical rows to the same tokens decoded one at a time, with 1 thread and with 2, and
 * with 8 sessions sharing one backend concurrently.
 */
class BatchInvarianceTest {
    static final int VOCAB = 50, DIM = 96, HEADS = 6, KV_HEADS = 2, HEAD_DIM = 16, FFN = 172, TOKENS = 9;

    /** A block's weights in one weight type. */
    record Block(Weight emb, Weight norm, Weight wq, Weight wk, Weight wv, Weight wo,
                 Weight gate, Weight up, Weight down, RopeTable rope) {
    }

    static Block block(Backend b, DType type, RopeStyle style) {
        Random rnd = new Random(42);
        float[] inv = new float[HEAD_DIM / 4]; // partial rotary: ropeDim = headDim / 2
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) Math.pow(10000, -2.0 * i / (HEAD_DIM / 2));
        }
        return new Block(
                b.prepare(TestTensors.tensor("emb", type, TestTensors.random(rnd, VOCAB * DIM), VOCAB, DIM)),
                b.prepare(TestTensors.tensor("norm", DType.F32, TestTensors.random(rnd, DIM), DIM)),
                mat(b, type, rnd, "q", HEADS * HEAD_DIM, DIM),
                mat(b, type, rnd, "k", KV_HEADS * HEAD_DIM, DIM),
                mat(b, type, rnd, "v", KV_HEADS * HEAD_DIM, DIM),
                mat(b, type, rnd, "o", DIM, HEADS * HEAD_DIM),
                mat(b, type, rnd, "gate", FFN, DIM),
                mat(b, type, rnd, "up", FFN, DIM),
                mat(b, type, rnd, "down", DIM, FFN),
                new RopeTable(style, HEAD_DIM / 2, inv));
    }

    static Weight mat(Backend b, DType type, Random rnd, String name, int rows, int cols) {
        float[] v = TestTensors.random(rnd, rows * cols);
        for (int i = 0; i < v.length; i++) {
            v[i] *= (float) (1 / Math.sqrt(cols));
        }
        return b.prepare(TestTensors.tensor(name, type, v, rows, cols));
    }

    /** Runs tokens {@code [from, from + n)} through the block (two layers sharing weights); returns the output rows. */
    static float[][] forward(Backend b, Block w, KvCache cache, int[] tokens, int from, int n) {
        Activations x = b.allocate(n, DIM), h = b.allocate(n, DIM);
        Activations q = b.allocate(n, HEADS * HEAD_DIM), att = b.allocate(n, HEADS * HEAD_DIM);
        Activations k = b.allocate(n, KV_HEADS * HEAD_DIM), v = b.allocate(n, KV_HEADS * HEAD_DIM);
        Activations g = b.allocate(n, FFN), u = b.allocate(n, FFN);
        int[] pos = new int[n];
        for (int t = 0; t < n; t++) {
            pos[t] = from + t;
        }
        b.embed(w.emb(), Arrays.copyOfRange(tokens, from, from + n), n, x);
        for (int layer = 0; layer < 2; layer++) {
            b.rmsnorm(x, w.norm(), 1e-5f, n, h);
            b.matmul(w.wq(), h, n, q);
            b.matmul(w.wk(), h, n, k);
            b.matmul(w.wv(), h, n, v);
            b.rope(q, n, HEADS, HEAD_DIM, pos, w.rope());
            b.rope(k, n, KV_HEADS, HEAD_DIM, pos, w.rope());
            b.kvWrite(cache, layer, k, v, n, pos);
            b.attention(q, cache, layer, n, pos, HEADS, KV_HEADS, HEAD_DIM, att);
            b.matmul(w.wo(), att, n, h);
            b.add(x, h, n);
            b.rmsnorm(x, w.norm(), 1e-5f, n, h);
            b.matmul(w.gate(), h, n, g);
            b.matmul(w.up(), h, n, u);
            b.siluMul(g, u, n);
            b.matmul(w.down(), g, n, h);
            b.add(x, h, n);
        }
        float[][] out = new float[n][DIM];
        for (int t = 0; t < n; t++) {
            b.read(x, t, out[t], 0);
        }
        return out;
    }

    static float[][] prefill(Backend b, DType type, DType cacheType, RopeStyle style, int[] tokens) {
        Block w = block(b, type, style);
        try (KvCache c = b.allocateKvCache(2, 32, KV_HEADS * HEAD_DIM, cacheType)) {
            return forward(b, w, c, tokens, 0, tokens.length);
        }
    }

    static float[][] decode(Backend b, DType type, DType cacheType, RopeStyle style, int[] tokens) {
        Block w = block(b, type, style);
        float[][] out = new float[tokens.length][];
        try (KvCache c = b.allocateKvCache(2, 32, KV_HEADS * HEAD_DIM, cacheType)) {
            // uneven pieces: 1 token, then 3, then one by one
            out[0] = forward(b, w, c, tokens, 0, 1)[0];
            float[][] three = forward(b, w, c, tokens, 1, 3);
            System.arraycopy(three, 0, out, 1, 3);
            for (int t = 4; t < tokens.length; t++) {
                out[t] = forward(b, w, c, tokens, t, 1)[0];
            }
        }
        return out;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (VectorWidth width : new VectorWidth[]{VectorWidth.PREFERRED, VectorWidth.SCALAR}) {
            for (DType type : new DType[]{DType.F32, DType.F16, DType.BF16}) {
                out.add(Arguments.of(width, type, type == DType.F16 ? DType.F16 : DType.F32,
                        type == DType.BF16 ? RopeStyle.NEOX : RopeStyle.NORMAL));
            }
        }
        return out.stream();
    }

    static final int[] TOKENS_IN = {3, 17, 49, 0, 8, 8, 21, 33, 5};

    @ParameterizedTest(name = "{0} weights {1} cache {2} rope {3}")
    @MethodSource("cases")
    void prefillEqualsDecodeAndThreadCountDoesNotMatter(VectorWidth width, DType type, DType cacheType, RopeStyle style) {
        float[][] one, two, stepped;
        try (Backend b1 = new CpuBackend(1, width)) {
            one = prefill(b1, type, cacheType, style, TOKENS_IN);
        }
        try (Backend b2 = new CpuBackend(2, width, 0)) { // split even tiny ops across both threads
            two = prefill(b2, type, cacheType, style, TOKENS_IN);
            stepped = decode(b2, type, cacheType, style, TOKENS_IN);
        }
        for (int t = 0; t < TOKENS; t++) {
            assertThat(bits(two[t])).as("2 threads vs 1, token %d", t).isEqualTo(bits(one[t]));
            assertThat(bits(stepped[t])).as("decode vs prefill, token %d", t).isEqualTo(bits(one[t]));
            for (float f : one[t]) {
                assertThat(Float.isFinite(f)).isTrue();
            }
        }
    }

    /** Eight sessions on one backend at once (issue 10's load) get exactly their solo results. */
    @Test
    void concurrentSessionsShareOneBackend() throws Exception {
        try (Backend b = new CpuBackend(2, VectorWidth.PREFERRED, 0)) {
            float[][] solo = prefill(b, DType.F32, DType.F32, RopeStyle.NORMAL, TOKENS_IN);
            ExecutorService ex = Executors.newFixedThreadPool(8);
            try {
                List<Future<float[][]>> fs = new ArrayList<>();
                for (int s = 0; s < 8; s++) {
                    boolean stepwise = s % 2 == 0;
                    Callable<float[][]> job = () -> {
                        float[][] r = null;
                        for (int rep = 0; rep < 1; rep++) {
                            r = stepwise ? decode(b, DType.F32, DType.F32, RopeStyle.NORMAL, TOKENS_IN)
                                    : prefill(b, DType.F32, DType.F32, RopeStyle.NORMAL, TOKENS_IN);
                        }
                        return r;
                    };
                    fs.add(ex.submit(job));
                }
                for (Future<float[][]> f : fs) {
                    float[][] r = f.get();
                    for (int t = 0; t < TOKENS; t++) {
                        assertThat(bits(r[t])).isEqualTo(bits(solo[t]));
                    }
                }
            } finally {
                ex.shutdownNow();
            }
        }
    }

    static int[] bits(float[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Float.floatToRawIntBits(a[i]);
        }
        return r;
    }
}
