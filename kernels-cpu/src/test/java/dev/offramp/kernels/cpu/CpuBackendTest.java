package dev.offramp.kernels.cpu;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.BackendProvider;
import dev.offramp.core.backend.KvCache;
import dev.offramp.core.backend.RopeTable;
import dev.offramp.core.backend.Weight;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The CPU backend against float64 references computed here, op by op. */
class CpuBackendTest {

    @Test
    void providerIsRegisteredUnderCpu() {
        BackendProvider p = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(b -> b.name().equals("cpu")).findFirst().orElseThrow();
        try (Backend b = p.create(2)) {
            assertThat(b.name()).isEqualTo("cpu");
            assertThat(b.threads()).isEqualTo(2);
            assertThat(b.describe()).contains("Vector API");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void matmulMatchesFloat64Reference(DType type) {
        Random rnd = new Random(1);
        int rows = 37, cols = 172, n = 6;
        float[] wv = TestTensors.representable(type, TestTensors.random(rnd, rows * cols));
        Tensor t = TestTensors.tensor("w", type, wv, rows, cols);
        try (Backend b = new CpuBackend(2)) {
            Weight w = b.prepare(t);
            Activations x = b.allocate(n, cols);
            Activations y = b.allocate(n, rows);
            float[][] xs = new float[n][];
            for (int i = 0; i < n; i++) {
                xs[i] = TestTensors.random(rnd, cols);
                b.write(x, i, xs[i], 0);
            }
            b.matmul(w, x, n, y);
            float[] row = new float[rows];
            for (int i = 0; i < n; i++) {
                b.read(y, i, row, 0);
                for (int r = 0; r < rows; r++) {
                    double ref = 0, mag = 0;
                    for (int c = 0; c < cols; c++) {
                        ref += (double) wv[r * cols + c] * xs[i][c];
                        mag += Math.abs((double) wv[r * cols + c] * xs[i][c]);
                    }
                    assertThat((double) row[r]).isCloseTo(ref, within(1e-5 * mag + 1e-6));
                }
            }
        }
    }

    @Test
    void embedRmsnormAddSiluMul() {
        Random rnd = new Random(2);
        int vocab = 11, dim = 40;
        float[] table = TestTensors.random(rnd, vocab * dim);
        float[] gamma = TestTensors.random(rnd, dim);
        try (Backend b = new CpuBackend(2)) {
            Weight emb = b.prepare(TestTensors.tensor("token_embd.weight", DType.F16, table, vocab, dim));
            Weight g = b.prepare(TestTensors.tensor("norm.weight", DType.F32, gamma, dim));
            Activations x = b.allocate(3, dim);
            b.embed(emb, new int[]{4, 0, 10}, 3, x);
            float[] row = new float[dim];
            b.read(x, 2, row, 0);
            for (int c = 0; c < dim; c++) {
                assertThat(row[c]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(table[10 * dim + c])));
            }
            Activations y = b.allocate(3, dim);
            b.rmsnorm(x, g, 1e-5f, 3, y);
            float[] out = new float[dim];
            b.read(y, 2, out, 0);
            double ss = 0;
            for (float v : row) {
                ss += v * (double) v;
            }
            double scale = 1 / Math.sqrt(ss / dim + 1e-5);
            for (int c = 0; c < dim; c++) {
                assertThat((double) out[c]).isCloseTo(row[c] * scale * gamma[c], within(1e-5 * Math.abs(row[c] * scale * gamma[c]) + 1e-6));
            }
            b.add(y, x, 3);
            b.read(y, 2, out, 0);
            assertThat((double) out[0]).isCloseTo(row[0] * scale * gamma[0] + row[0], within(1e-5));
            // siluMul: gate = x, up = y
            float[] gate = row.clone();
            b.siluMul(x, y, 3);
            b.read(x, 2, row, 0);
            for (int c = 0; c < dim; c++) {
                double silu = gate[c] / (1 + Math.exp(-gate[c]));
                assertThat((double) row[c]).isCloseTo(silu * out[c], within(1e-5 * Math.abs(silu * out[c]) + 1e-6));
            }
            assertThatThrownBy(() -> b.embed(emb, new int[]{11}, 1, x)).hasMessageContaining("token_embd.weight");
        }
    }

    @ParameterizedTest
    @EnumSource(value = RopeStyle.class)
    void ropeRotatesPairs(RopeStyle style) {
        int heads = 2, headDim = 8, ropeDim = 4;
        float[] inv = {1f, 0.1f};
        RopeTable table = new RopeTable(style, ropeDim, inv);
        float[] v = TestTensors.random(new Random(3), heads * headDim);
        try (Backend b = new CpuBackend(1)) {
            Activations x = b.allocate(1, heads * headDim);
            b.write(x, 0, v, 0);
            b.rope(x, 1, heads, headDim, new int[]{7}, table);
            float[] out = new float[heads * headDim];
            b.read(x, 0, out, 0);
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < ropeDim / 2; i++) {
                    int i0 = h * headDim + (style == RopeStyle.NEOX ? i : 2 * i);
                    int i1 = h * headDim + (style == RopeStyle.NEOX ? i + ropeDim / 2 : 2 * i + 1);
                    double th = 7 * inv[i];
                    assertThat((double) out[i0]).isCloseTo(v[i0] * Math.cos(th) - v[i1] * Math.sin(th), within(1e-5));
                    assertThat((double) out[i1]).isCloseTo(v[i1] * Math.cos(th) + v[i0] * Math.sin(th), within(1e-5));
                }
                for (int d = ropeDim; d < headDim; d++) {
                    assertThat(out[h * headDim + d]).isEqualTo(v[h * headDim + d]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void attentionMatchesNaiveCausalGqa(DType cacheType) {
        Random rnd = new Random(4);
        int heads = 4, kvHeads = 2, headDim = 24, n = 5, kvDim = kvHeads * headDim;
        try (Backend b = new CpuBackend(2)) {
            KvCache cache = b.allocateKvCache(2, 16, kvDim, cacheType);
            Activations q = b.allocate(n, heads * headDim);
            Activations k = b.allocate(n, kvDim);
            Activations v = b.allocate(n, kvDim);
            Activations out = b.allocate(n, heads * headDim);
            float[][] qs = new float[n][], ks = new float[n][], vs = new float[n][];
            for (int t = 0; t < n; t++) {
                qs[t] = TestTensors.random(rnd, heads * headDim);
                ks[t] = TestTensors.representable(cacheType, TestTensors.random(rnd, kvDim));
                vs[t] = TestTensors.representable(cacheType, TestTensors.random(rnd, kvDim));
                b.write(q, t, qs[t], 0);
                b.write(k, t, ks[t], 0);
                b.write(v, t, vs[t], 0);
            }
            int[] pos = {0, 1, 2, 3, 4};
            b.kvWrite(cache, 1, k, v, n, pos);
            b.attention(q, cache, 1, n, pos, heads, kvHeads, headDim, out);
            float[] row = new float[heads * headDim];
            for (int t = 0; t < n; t++) {
                b.read(out, t, row, 0);
                for (int h = 0; h < heads; h++) {
                    int kh = h / (heads / kvHeads);
                    double[] sc = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int p = 0; p <= t; p++) {
                        double d = 0;
                        for (int i = 0; i < headDim; i++) {
                            d += qs[t][h * headDim + i] * (double) ks[p][kh * headDim + i];
                        }
                        sc[p] = d / Math.sqrt(headDim);
                        max = Math.max(max, sc[p]);
                    }
                    for (int p = 0; p <= t; p++) {
                        sc[p] = Math.exp(sc[p] - max);
                        sum += sc[p];
                    }
                    for (int i = 0; i < headDim; i++) {
                        double o = 0;
                        for (int p = 0; p <= t; p++) {
                            o += sc[p] / sum * vs[p][kh * headDim + i];
                        }
                        assertThat((double) row[h * headDim + i]).isCloseTo(o, within(1e-5));
                    }
                }
            }
        }
    }

    /** An F16 weight holding an infinity keeps its exact widening: the output is infinite, not garbage. */
    @Test
    void f16InfinityPropagates() {
        float[] w = {1, Float.POSITIVE_INFINITY, 2, 3};
        try (Backend b = new CpuBackend(1)) {
            Weight wt = b.prepare(TestTensors.tensor("w", DType.F16, w, 2, 2));
            Activations x = b.allocate(1, 2), y = b.allocate(1, 2);
            b.write(x, 0, new float[]{1, 1}, 0);
            b.matmul(wt, x, 1, y);
            float[] out = new float[2];
            b.read(y, 0, out, 0);
            assertThat(out[0]).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(out[1]).isEqualTo(5f);
        }
    }

    @Test
    void workersAreNamedDaemonsAndStopOnClose() throws Exception {
        java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
        CpuBackend b = new CpuBackend(3);
        java.util.List<Thread> workers = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.getName().startsWith("offramp-cpu-")).toList();
        assertThat(workers).hasSize(2).allMatch(Thread::isDaemon);
        b.close();
        for (Thread t : workers) {
            t.join(2000);
        }
        assertThat(workers).noneMatch(Thread::isAlive);
    }

    /** Quantized tables embed through the reference dequantizer; quantized matmuls are wired in and batch invariant. */
    @Test
    void q8_0EmbedAndMatmulThroughTheBackend() {
        Random rnd = new Random(9);
        int rows = 40, cols = 96, n = 7;
        float[] v = TestTensors.random(rnd, rows * cols);
        java.lang.foreign.MemorySegment seg = Arena.ofAuto().allocate(DType.Q8_0.bytesFor((long) rows * cols));
        dev.offramp.core.tensor.quant.Q8_0Codec.quantize(v, 0, seg, 0, rows * cols);
        Tensor t = new Tensor("blk.0.attn_q.weight", DType.Q8_0, new long[]{rows, cols}, seg);
        float[] deq = dev.offramp.core.tensor.quant.Dequantize.all(DType.Q8_0, seg, rows * cols);
        for (VectorWidth width : new VectorWidth[]{VectorWidth.PREFERRED, VectorWidth.SCALAR}) {
            try (Backend b = new CpuBackend(2, width, 0)) {
                Weight w = b.prepare(t);
                Activations e = b.allocate(2, cols);
                b.embed(w, new int[]{39, 3}, 2, e);
                float[] row = new float[cols];
                b.read(e, 0, row, 0);
                assertThat(row).containsExactly(java.util.Arrays.copyOfRange(deq, 39 * cols, 40 * cols));
                Activations x = b.allocate(n, cols), y = b.allocate(n, rows), y1 = b.allocate(1, rows);
                float[][] xs = new float[n][];
                for (int i = 0; i < n; i++) {
                    xs[i] = TestTensors.random(rnd, cols);
                    b.write(x, i, xs[i], 0);
                }
                b.matmul(w, x, n, y);
                float[] got = new float[rows], one = new float[rows];
                for (int i = 0; i < n; i++) {
                    b.read(y, i, got, 0);
                    Activations xi = b.allocate(1, cols);
                    b.write(xi, 0, xs[i], 0);
                    b.matmul(w, xi, 1, y1);
                    b.read(y1, 0, one, 0);
                    assertThat(one).as("batch 1 vs %d, token %d, %s", n, i, width).containsExactly(got);
                    // on 256/512-bit vectors x is quantized to int8 per 32 values (as llama.cpp does):
                    // each x moves by at most amax / 127 / 2 of its block
                    float[] amax = new float[cols / 32];
                    for (int c = 0; c < cols; c++) {
                        amax[c / 32] = Math.max(amax[c / 32], Math.abs(xs[i][c]));
                    }
                    for (int r = 0; r < rows; r++) {
                        double ref = 0, mag = 0, rounding = 0;
                        for (int c = 0; c < cols; c++) {
                            ref += (double) deq[r * cols + c] * xs[i][c];
                            mag += Math.abs((double) deq[r * cols + c] * xs[i][c]);
                            rounding += Math.abs(deq[r * cols + c]) * amax[c / 32] / 127 / 2;
                        }
                        double bound = width == VectorWidth.SCALAR ? 1e-5 * mag + 1e-6 : rounding + 1e-5 * mag;
                        assertThat((double) got[r]).isCloseTo(ref, within(bound));
                        assertThat(rounding).isLessThan(0.05 * mag);
                    }
                }
            }
        }
    }

    /**
     * Several weights of one input in one call (q/k/v, gate/up): every output equals its own single
     * matmul bit for bit, for mixed types and row counts, one token and several, with rows split across
     * three threads (chunks straddle the weights' boundaries); mismatched lists and shapes are refused,
     * naming the tensor.
     */
    @Test
    void severalWeightsOfOneInputEqualOneCallEach() {
        Random rnd = new Random(21);
        int cols = 96;
        int[] rows = {40, 17, 64};
        Tensor[] ts = {
                quantized("blk.0.attn_q.weight", DType.Q8_0, TestTensors.random(rnd, rows[0] * cols), rows[0], cols),
                TestTensors.tensor("blk.0.attn_k.weight", DType.F32, TestTensors.random(rnd, rows[1] * cols), rows[1], cols),
                quantized("blk.0.attn_v.weight", DType.Q4_0, TestTensors.random(rnd, rows[2] * cols), rows[2], cols)};
        try (Backend b = new CpuBackend(3, VectorWidth.PREFERRED, 0)) {
            Weight[] ws = new Weight[ts.length];
            for (int i = 0; i < ts.length; i++) {
                ws[i] = b.prepare(ts[i]);
            }
            for (int n : new int[]{1, 5}) {
                Activations x = b.allocate(n, cols);
                for (int t = 0; t < n; t++) {
                    b.write(x, t, TestTensors.random(rnd, cols), 0);
                }
                Activations[] together = new Activations[ts.length];
                Activations[] alone = new Activations[ts.length];
                for (int i = 0; i < ts.length; i++) {
                    together[i] = b.allocate(n, rows[i]);
                    alone[i] = b.allocate(n, rows[i]);
                    b.matmul(ws[i], x, n, alone[i]);
                }
                b.matmul(ws, x, n, together);
                for (int i = 0; i < ts.length; i++) {
                    float[] got = new float[rows[i]], want = new float[rows[i]];
                    for (int t = 0; t < n; t++) {
                        b.read(together[i], t, got, 0);
                        b.read(alone[i], t, want, 0);
                        assertThat(got).as("%s, n=%d, token %d", ts[i].name(), n, t).containsExactly(want);
                    }
                }
            }
            Activations x = b.allocate(1, cols);
            Activations[] outs = {b.allocate(1, rows[0]), b.allocate(1, rows[1])};
            assertThatThrownBy(() -> b.matmul(ws, x, 1, outs))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 weights but 2 outputs");
            assertThatThrownBy(() -> b.matmul(new Weight[]{ws[0], ws[2]}, x, 1, outs))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("blk.0.attn_v.weight").hasMessageContaining("out has 17 columns");
            assertThatThrownBy(() -> b.matmul(new Weight[]{ws[0], ws[0]}, x, 1, new Activations[]{outs[0], outs[0]}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outputs 0 and 1 are the same");
        }
    }

    /**
     * Q4_0 (int8 activations on 256-bit machines and wider): a 7-token batch on three threads gives each token the
     * bits of that token alone on one thread, so prefill, verification and decode agree.
     */
    @Test
    void q4_0BatchOnThreeThreadsEqualsOneTokenOnOne() {
        Random rnd = new Random(22);
        int cols = 256, rows = 100, n = 7;
        Tensor t = quantized("w", DType.Q4_0, TestTensors.random(rnd, rows * cols), rows, cols);
        float[][] xs = new float[n][];
        for (int i = 0; i < n; i++) {
            xs[i] = TestTensors.random(rnd, cols);
        }
        float[][] batch = new float[n][rows];
        try (Backend b = new CpuBackend(3, VectorWidth.PREFERRED, 0)) {
            Weight w = b.prepare(t);
            Activations x = b.allocate(n, cols), y = b.allocate(n, rows);
            for (int i = 0; i < n; i++) {
                b.write(x, i, xs[i], 0);
            }
            b.matmul(w, x, n, y);
            for (int i = 0; i < n; i++) {
                b.read(y, i, batch[i], 0);
            }
        }
        try (Backend b = new CpuBackend(1, VectorWidth.PREFERRED, 0)) {
            Weight w = b.prepare(t);
            Activations x = b.allocate(1, cols), y = b.allocate(1, rows);
            float[] one = new float[rows];
            for (int i = 0; i < n; i++) {
                b.write(x, 0, xs[i], 0);
                b.matmul(w, x, 1, y);
                b.read(y, 0, one, 0);
                assertThat(one).as("token %d", i).containsExactly(batch[i]);
            }
        }
    }

    private static Tensor quantized(String name, DType type, float[] v, int rows, int cols) {
        java.lang.foreign.MemorySegment seg = Arena.ofAuto().allocate(type.bytesFor((long) rows * cols));
        switch (type) {
            case Q8_0 -> dev.offramp.core.tensor.quant.Q8_0Codec.quantize(v, 0, seg, 0, rows * cols);
            case Q4_0 -> dev.offramp.core.tensor.quant.Q4_0Codec.quantize(v, 0, seg, 0, rows * cols);
            default -> throw new IllegalArgumentException(type.toString());
        }
        return new Tensor(name, type, new long[]{rows, cols}, seg);
    }

    @Test
    void closedBackendRefusesWork() {
        Backend b = new CpuBackend(2);
        Activations x = b.allocate(1, 4);
        b.close();
        assertThatThrownBy(() -> b.add(x, x, 1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void missingKernelNamesTensorAndType() {
        Tensor t = new Tensor("blk.0.ffn_up.weight", DType.Q8_K, new long[]{2, 256},
                Arena.ofAuto().allocate(DType.Q8_K.bytesFor(512)));
        try (Backend b = new CpuBackend(1, VectorWidth.SCALAR)) {
            Weight w = b.prepare(t);
            Activations x = b.allocate(1, 256), y = b.allocate(1, 2);
            assertThatThrownBy(() -> b.matmul(w, x, 1, y))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("Q8_K").hasMessageContaining("blk.0.ffn_up.weight");
        }
    }

    /**
     * An F16 cache with grouped-query heads (each KV head widened once for its group) gives the bits of an
     * F32 cache holding the same values (halves, so exact in both), for a prefill of several tokens on two
     * threads with every op split.
     */
    @Test
    void groupedQueryAttentionOverAnF16CacheEqualsTheF32CacheOfTheSameValues() {
        int heads = 8, kvHeads = 2, headDim = 32, n = 5;
        Random random = new Random(11);
        float[][] qs = new float[n][heads * headDim];
        float[][] ks = new float[n][kvHeads * headDim];
        float[][] vs = new float[n][kvHeads * headDim];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < heads * headDim; i++) {
                qs[t][i] = (float) random.nextGaussian();
            }
            for (int i = 0; i < kvHeads * headDim; i++) {
                ks[t][i] = Float.float16ToFloat(Float.floatToFloat16((float) random.nextGaussian()));
                vs[t][i] = Float.float16ToFloat(Float.floatToFloat16((float) random.nextGaussian()));
            }
        }
        int[] positions = {0, 1, 2, 3, 4};
        float[][] results = new float[2][];
        DType[] types = {DType.F32, DType.F16};
        try (Backend b = new CpuBackend(2, VectorWidth.PREFERRED, 0)) {
            for (int c = 0; c < 2; c++) {
                try (KvCache cache = b.allocateKvCache(1, 8, kvHeads * headDim, types[c])) {
                    Activations q = b.allocate(n, heads * headDim), out = b.allocate(n, heads * headDim);
                    Activations k = b.allocate(n, kvHeads * headDim), v = b.allocate(n, kvHeads * headDim);
                    for (int t = 0; t < n; t++) {
                        b.write(q, t, qs[t], 0);
                        b.write(k, t, ks[t], 0);
                        b.write(v, t, vs[t], 0);
                    }
                    b.kvWrite(cache, 0, k, v, n, positions);
                    b.attention(q, cache, 0, n, positions, heads, kvHeads, headDim, out);
                    results[c] = new float[n * heads * headDim];
                    for (int t = 0; t < n; t++) {
                        b.read(out, t, results[c], t * heads * headDim);
                    }
                }
            }
        }
        for (int i = 0; i < results[0].length; i++) {
            assertThat(Float.floatToRawIntBits(results[1][i])).as("output %d", i)
                    .isEqualTo(Float.floatToRawIntBits(results[0][i]));
        }
        assertThat(results[0]).as("attention produced values").isNotEqualTo(new float[results[0].length]);
    }
}
