package dev.offramp.loader.quantize;

import dev.offramp.core.backend.Backend;
import dev.offramp.core.eval.Perplexity;
import dev.offramp.core.model.LlamaModel;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Layer-wise mixed precision under a size budget: every block's attention weights (q, k, v, output)
 * and FFN weights (gate, up, down) form one unit; each unit's sensitivity is the increase of the mean
 * NLL on calibration text when only that unit is quantized to the low type (everything else at the
 * high type). Starting from all-high, the least sensitive units (per byte saved) go to the low type
 * until the weights fit the budget.
 *
 * <pre>{@code
 * MixedPrecision.Choice c = MixedPrecision.choose(src, QuantizeOptions.of(DType.Q4_K), DType.Q6_K, budget, tokens, 1, 512, 2, backend, null);
 * GgufQuantizer.write(src, GgufQuantizer.plan(src, opts.withOverrides(c.overrides())), opts, out, null);
 * }</pre>
 */
public final class MixedPrecision {

    private MixedPrecision() {
    }

    /** One unit's measured sensitivity: mean NLL with the unit at the low type minus the all-high NLL. */
    public record Unit(String name, List<String> tensors, long lowBytes, long highBytes, double deltaNll) {
    }

    /** The chosen per-tensor types, the units with their sensitivities, and the total weight bytes. */
    public record Choice(Map<String, DType> overrides, List<Unit> units, List<String> lowUnits, long bytes,
                         double baseNll) {
    }

    /**
     * @param tokens calibration tokens (BOS first if the model uses one)
     * @param bos    id written over each chunk's first token, or negative
     * @param chunks calibration chunks of {@code ctx} tokens used per measurement
     * @param log    receives one line per measurement (may be null)
     * @throws IllegalArgumentException when even all-low does not fit the budget
     */
    public static Choice choose(GgufFile src, QuantizeOptions lowOptions, DType high, long budgetBytes, int[] tokens,
                                int bos, int ctx, int chunks, Backend backend, Consumer<String> log) throws IOException {
        Consumer<String> say = log != null ? log : s -> { };
        DType low = lowOptions.type();
        ModelConfig config = GgufModelConfigs.from(src);
        // Tensors outside the units (embeddings, head, norms) keep what the low type's plan gives them.
        List<TensorPlan> lowPlan = GgufQuantizer.plan(src, lowOptions);
        boolean hasOutput = src.hasTensor("output.weight");
        List<Unit> units = new ArrayList<>();
        Map<String, DType> highTypes = new LinkedHashMap<>();
        for (int l = 0; l < config.layers(); l++) {
            for (String kind : new String[] {"attn", "ffn"}) {
                List<String> names = new ArrayList<>();
                long lo = 0;
                long hi = 0;
                for (TensorPlan p : lowPlan) {
                    String n = p.name();
                    boolean member = n.startsWith("blk." + l + ".") && n.endsWith(".weight") && p.shape().length == 2
                            && (kind.equals("attn") ? n.contains(".attn_") : n.contains(".ffn_"));
                    if (member) {
                        TensorPlan hp = GgufQuantizer.planOne(src.tensor(n),
                                lowOptions.withOverrides(Map.of(n, high)), hasOutput);
                        names.add(n);
                        highTypes.put(n, hp.to());
                        lo += p.outputBytes();
                        hi += hp.outputBytes();
                    }
                }
                if (!names.isEmpty()) {
                    units.add(new Unit("blk." + l + "." + kind, names, lo, hi, 0));
                }
            }
        }
        long allLow = lowPlan.stream().mapToLong(TensorPlan::outputBytes).sum();
        long allHigh = allLow + units.stream().mapToLong(u -> u.highBytes() - u.lowBytes()).sum();
        if (allLow > budgetBytes) {
            throw new IllegalArgumentException("budget of " + budgetBytes + " bytes is below the all-" + low
                    + " size of " + allLow + " bytes");
        }
        List<TensorPlan> highPlan = new ArrayList<>();
        for (TensorPlan p : lowPlan) {
            DType h = highTypes.get(p.name());
            highPlan.add(h == null ? p : new TensorPlan(p.name(), p.shape(), p.from(), h, "mixed: high"));
        }
        Map<String, DType> lowTypes = new LinkedHashMap<>();
        for (TensorPlan p : lowPlan) {
            if (highTypes.containsKey(p.name())) {
                lowTypes.put(p.name(), p.to());
            }
        }
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> highTensors = materialize(src, highPlan, arena);
            Map<String, Tensor> lowTensors = new LinkedHashMap<>();
            for (Map.Entry<String, DType> e : lowTypes.entrySet()) {
                lowTensors.put(e.getKey(), encode(src.tensor(e.getKey()), e.getValue(), arena));
            }
            double baseNll = nll(config, highTensors, backend, tokens, bos, ctx, chunks);
            say.accept(String.format(java.util.Locale.ROOT, "all %s: mean NLL %.5f", high, baseNll));
            List<Unit> measured = new ArrayList<>();
            for (Unit u : units) {
                Map<String, Tensor> mix = new LinkedHashMap<>(highTensors);
                for (String n : u.tensors()) {
                    mix.put(n, lowTensors.get(n));
                }
                double d = nll(config, mix, backend, tokens, bos, ctx, chunks) - baseNll;
                say.accept(String.format(java.util.Locale.ROOT, "%-12s at %s: NLL %+.5f", u.name(), low, d));
                measured.add(new Unit(u.name(), u.tensors(), u.lowBytes(), u.highBytes(), d));
            }
            List<Unit> order = new ArrayList<>(measured);
            order.sort(Comparator.comparingDouble(u -> u.deltaNll() / Math.max(1, u.highBytes() - u.lowBytes())));
            Map<String, DType> overrides = new LinkedHashMap<>();
            List<String> lowUnits = new ArrayList<>();
            long bytes = allHigh;
            for (Unit u : order) {
                if (bytes <= budgetBytes) {
                    break;
                }
                for (String n : u.tensors()) {
                    overrides.put(n, low);
                }
                lowUnits.add(u.name());
                bytes -= u.highBytes() - u.lowBytes();
            }
            return new Choice(overrides, measured, lowUnits, bytes, baseNll);
        }
    }

    private static double nll(ModelConfig config, Map<String, Tensor> tensors, Backend backend, int[] tokens, int bos,
                              int ctx, int chunks) {
        LlamaModel m = LlamaModel.bind(config, tensors, backend);
        return Perplexity.ofTokens(m, tokens, bos, ctx, ctx, chunks, null).meanNll();
    }

    private static Map<String, Tensor> materialize(GgufFile src, List<TensorPlan> plan, Arena arena) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (TensorPlan p : plan) {
            Tensor t = src.tensor(p.name());
            out.put(p.name(), p.converts() ? encode(t, p.to(), arena) : t);
        }
        return out;
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
}
