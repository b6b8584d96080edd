package dev.offramp.loader.quantize;

import dev.offramp.core.backend.Backend;
import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufModelConfigs;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Per-tensor mixed precision under a size budget. Every 2-D weight (the token embedding / tied head
 * included) may take any of the candidate types; the choice minimises the predicted drift of the
 * model's next-token distributions on calibration text, measured as KL(original || quantized):
 * <ol>
 *   <li><b>Sensitivity.</b> For each tensor alone, quantized to its smallest candidate (the probe) with
 *       everything else original, the mean KL over all positions of a few calibration chunks. The
 *       forward starts at the tensor's layer from the reference pass's saved hidden states.</li>
 *   <li><b>Other types.</b> A tensor's KL at type T is predicted as {@code KL(probe) * e(T) / e(probe)},
 *       {@code e} being the squared weight error of T on that tensor (sampled rows): to first order
 *       the KL is a quadratic form in the weight error, so it scales with the error's energy.</li>
 *   <li><b>Budget.</b> The per-tensor KLs are summed (errors of different tensors are independent) and
 *       {@link BudgetAllocator} spends the bytes left above the all-smallest plan greedily by KL saved
 *       per byte. The budget covers every tensor of the file, norms and embeddings included.</li>
 * </ol>
 *
 * <pre>{@code
 * MixedPrecision.Choice c = MixedPrecision.choose(src, QuantizeOptions.of(DType.Q4_K), MixedPrecision.CANDIDATES,
 *         budget, tokens, 1, 256, 4, backend, null);
 * QuantizeOptions o = QuantizeOptions.of(DType.Q4_K).withOverrides(c.overrides());
 * GgufQuantizer.write(src, GgufQuantizer.plan(src, o), o, out, null);
 * }</pre>
 */
public final class MixedPrecision {

    /** The default candidates: every GGUF type this project quantizes to, from 2.6 to 8.5 bits per weight. */
    public static final List<DType> CANDIDATES = List.of(DType.Q2_K, DType.Q3_K, DType.Q4_0, DType.Q4_1, DType.Q4_K,
            DType.Q5_0, DType.Q5_1, DType.Q5_K, DType.Q6_K, DType.Q8_0);

    /** Rows per tensor whose quantization error is measured for every candidate (evenly spaced). */
    private static final int ERROR_ROWS = 32;

    private MixedPrecision() {
    }

    /**
     * One tensor's measurement and outcome.
     *
     * @param probe     the type used to measure sensitivity (the tensor's smallest option)
     * @param probeKl   mean KL per position with only this tensor at {@code probe}
     * @param predicted predicted KL per candidate type the tensor can take
     */
    public record TensorChoice(String name, DType type, long bytes, DType probe, double probeKl,
                               Map<DType, Double> predicted) {
    }

    /**
     * @param overrides   the chosen type of every allocated tensor (pass to {@link QuantizeOptions#withOverrides})
     * @param tensors     per-tensor measurements, in file order
     * @param bytes       tensor bytes of the whole output file under this choice
     * @param predictedKl sum of the chosen types' predicted KLs
     */
    public record Choice(Map<String, DType> overrides, List<TensorChoice> tensors, long bytes, double predictedKl) {
    }

    /**
     * @param base       rules for the tensors outside the choice (1-D tensors) and for row fallbacks
     * @param candidates types each 2-D weight may take (rows that do not fit a type fall back as
     *                   {@link GgufQuantizer#planOne} says)
     * @param tokens     calibration tokens (BOS first if the model uses one)
     * @param bos        id written over each chunk's first token, or negative
     * @param ctx        tokens per calibration chunk
     * @param chunks     calibration chunks per measurement
     * @param threads    workers for the weight-error pass (0 = one per core)
     * @param log        receives one line per measurement (may be null)
     * @throws IllegalArgumentException when even the smallest candidates do not fit the budget
     */
    public static Choice choose(GgufFile src, QuantizeOptions base, List<DType> candidates, long budgetBytes,
                                int[] tokens, int bos, int ctx, int chunks, int threads, Backend backend,
                                Consumer<String> log) throws IOException {
        Consumer<String> say = log != null ? log : s -> { };
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("--mixed needs at least one candidate type");
        }
        ModelConfig config = GgufModelConfigs.from(src);
        boolean hasOutput = src.hasTensor("output.weight");
        List<TensorPlan> basePlan = GgufQuantizer.plan(src, base);
        List<String> names = new ArrayList<>();
        List<List<DType>> types = new ArrayList<>();
        long fixed = 0;
        for (TensorPlan p : basePlan) {
            if (p.shape().length != 2 || !p.name().endsWith(".weight")) {
                fixed += p.outputBytes();
                continue;
            }
            Set<DType> ts = new LinkedHashSet<>();
            for (DType c : candidates) {
                ts.add(GgufQuantizer.planOne(src.tensor(p.name()), base.withOverrides(Map.of(p.name(), c)), hasOutput).to());
            }
            names.add(p.name());
            types.add(List.copyOf(ts));
        }
        long t0 = System.nanoTime();
        int workers = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        try (Arena arena = Arena.ofShared();
             ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
                 Thread th = new Thread(r, "offramp-mixed");
                 th.setDaemon(true);
                 return th;
             })) {
            // Weight errors of every option, and the probe encoding of every tensor, in parallel.
            List<Future<Measured>> jobs = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                Tensor t = src.tensor(names.get(i));
                List<DType> ts = types.get(i);
                jobs.add(pool.submit(() -> measure(t, ts, arena)));
            }
            List<Measured> measured = new ArrayList<>();
            for (Future<Measured> f : jobs) {
                measured.add(join(f));
            }
            say.accept(String.format(Locale.ROOT, "weight errors of %d tensors x %d types in %.1f s", names.size(),
                    candidates.size(), (System.nanoTime() - t0) / 1e9));
            List<BudgetAllocator.Item> items = new ArrayList<>();
            List<TensorChoice> reports = new ArrayList<>();
            try (LogitDivergence d = LogitDivergence.reference(config, src.tensors(), backend, tokens, bos, ctx, chunks)) {
                for (int i = 0; i < names.size(); i++) {
                    Measured m = measured.get(i);
                    String n = names.get(i);
                    double kl = m.probeError() > 0 ? d.of(Map.of(n, m.probeTensor())) : 0;
                    Map<DType, Double> predicted = new LinkedHashMap<>();
                    List<BudgetAllocator.Option> options = new ArrayList<>();
                    long elements = src.tensor(n).elementCount();
                    for (int k = 0; k < m.types().size(); k++) {
                        DType ty = m.types().get(k);
                        double loss = m.probeError() > 0 ? kl * m.errors()[k] / m.probeError() : 0;
                        predicted.put(ty, loss);
                        options.add(new BudgetAllocator.Option(ty, ty.bytesFor(elements), loss));
                    }
                    items.add(new BudgetAllocator.Item(n, options));
                    reports.add(new TensorChoice(n, null, 0, m.probe(), kl, predicted));
                    say.accept(String.format(Locale.ROOT, "%-26s KL at %-4s %.3e", n, m.probe(), kl));
                }
            }
            BudgetAllocator.Allocation a = BudgetAllocator.allocate(items, fixed, budgetBytes);
            Map<String, DType> overrides = new LinkedHashMap<>();
            List<TensorChoice> out = new ArrayList<>();
            for (TensorChoice r : reports) {
                BudgetAllocator.Option o = a.chosen().get(r.name());
                overrides.put(r.name(), o.type());
                out.add(new TensorChoice(r.name(), o.type(), o.bytes(), r.probe(), r.probeKl(), r.predicted()));
            }
            say.accept(String.format(Locale.ROOT, "chose types for %d tensors: %d bytes (budget %d), predicted KL %.3e, %.1f s",
                    out.size(), a.bytes(), budgetBytes, a.loss(), (System.nanoTime() - t0) / 1e9));
            return new Choice(overrides, List.copyOf(out), a.bytes(), a.loss());
        }
    }

    /** Squared weight error per type over sampled rows, and the whole tensor in its smallest type. */
    private record Measured(List<DType> types, double[] errors, DType probe, double probeError, Tensor probeTensor) {
    }

    private static Measured measure(Tensor t, List<DType> types, Arena arena) {
        int cols = Math.toIntExact(t.cols());
        long rows = t.rows();
        long step = Math.max(1, rows / ERROR_ROWS);
        double[] errors = new double[types.size()];
        float[] row = new float[cols];
        float[] back = new float[cols];
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment buf = scratch.allocate(DType.F32.bytesFor(cols) + 64, 64);
            long srcRow = t.type().bytesFor(cols);
            for (long r = 0; r < rows; r += step) {
                Dequantize.row(t.type(), t.data(), r * srcRow, row, 0, cols);
                for (int k = 0; k < types.size(); k++) {
                    DType ty = types.get(k);
                    if (ty == t.type()) {
                        continue;
                    }
                    RowCodec.encode(ty, row, 0, buf, 0, cols);
                    Dequantize.row(ty, buf, 0, back, 0, cols);
                    double e = 0;
                    for (int c = 0; c < cols; c++) {
                        double d = (double) back[c] - row[c];
                        e += d * d;
                    }
                    errors[k] += e;
                }
            }
        }
        int smallest = 0;
        for (int k = 1; k < types.size(); k++) {
            long b = types.get(k).bytesFor(cols);
            long s = types.get(smallest).bytesFor(cols);
            if (b < s || (b == s && errors[k] > errors[smallest])) {
                smallest = k;
            }
        }
        DType probe = types.get(smallest);
        Tensor enc = probe == t.type() ? t : encode(t, probe, arena);
        return new Measured(types, errors, probe, errors[smallest], enc);
    }

    static Tensor encode(Tensor t, DType to, Arena arena) {
        int cols = Math.toIntExact(t.cols());
        long rows = t.rows();
        MemorySegment dst = arena.allocate(to.bytesFor(t.elementCount()), 64);
        float[] buf = new float[cols];
        long srcRow = t.type().bytesFor(cols);
        long dstRow = to.bytesFor(cols);
        for (long r = 0; r < rows; r++) {
            Dequantize.row(t.type(), t.data(), r * srcRow, buf, 0, cols);
            RowCodec.encode(to, buf, 0, dst, r * dstRow, cols);
        }
        return new Tensor(t.name(), to, t.shape(), dst);
    }

    private static <T> T join(Future<T> f) throws IOException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException("mixed precision: " + c.getMessage(), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while measuring weight errors");
        }
    }
}
