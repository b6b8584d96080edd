package dev.offramp.loader.quantize;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.gguf.GgufWriter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;

/**
 * GGUF in, GGUF out, with llama.cpp's conventions for what stays in higher precision:
 * <ul>
 *   <li>only 2-D {@code *.weight} tensors are quantized (norms and other 1-D tensors keep their type);</li>
 *   <li>the output head ({@code output.weight}, or {@code token_embd.weight} when there is no separate
 *       head) becomes Q6_K for quantized types other than Q8_0, or Q8_0 when its rows are not a multiple
 *       of 256 (llama-quantize's rule), unless an output type is given;</li>
 *   <li>an explicit {@code token_embd} type wins over that rule (llama-quantize's {@code --token-embedding-type});</li>
 *   <li>rows that are not whole blocks fall back: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0 (as llama.cpp),
 *       Q2_K/Q3_K to Q4_0 (llama.cpp: IQ4_NL, same size), and anything still not whole blocks to F16;</li>
 *   <li>with a {@link KQuantMix} ({@code Q4_K_M}, ...) the other 2-D weights follow its per-tensor table.</li>
 * </ul>
 * Tensors are quantized row-parallel on a fixed pool and streamed into a temporary file next to the
 * destination, which is then moved into place.
 *
 * <pre>{@code
 * try (GgufFile src = GgufFile.open(in)) {
 *     List<TensorPlan> plan = GgufQuantizer.plan(src, QuantizeOptions.of(DType.Q8_0));
 *     GgufQuantizer.write(src, plan, QuantizeOptions.of(DType.Q8_0), out, null);
 * }
 * }</pre>
 */
public final class GgufQuantizer {

    private static final long WRITE_SLICE = 64L << 20;

    private GgufQuantizer() {
    }

    /** Decides every tensor's output type. */
    public static List<TensorPlan> plan(GgufFile src, QuantizeOptions o) {
        boolean hasOutput = src.hasTensor("output.weight");
        KQuantMix.Model model = o.mix() != null ? KQuantMix.Model.of(src) : null;
        List<TensorPlan> out = new ArrayList<>();
        for (Tensor t : src.tensors().values()) {
            out.add(planOne(t.name(), t.shape(), t.type(), o, hasOutput, model));
        }
        return out;
    }

    /**
     * The type {@code t} gets under {@code o}'s rules; {@code hasOutput} tells whether the model has a
     * separate {@code output.weight} (else {@code token_embd.weight} is the output head). Not for
     * k-quant mixes, whose rules need the whole model: use {@link #plan} or the overload with a model.
     */
    public static TensorPlan planOne(Tensor t, QuantizeOptions o, boolean hasOutput) {
        return planOne(t.name(), t.shape(), t.type(), o, hasOutput, null);
    }

    /**
     * The type tensor {@code name} ({@code shape}, stored as {@code from}) gets under {@code o}'s rules.
     *
     * @param model the model's layer counts and GQA ratio; required when {@code o} names a {@link KQuantMix}
     */
    public static TensorPlan planOne(String name, long[] shape, DType from, QuantizeOptions o, boolean hasOutput,
                                     KQuantMix.Model model) {
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        DType override = o.overrides().get(name);
        if (override == null && (shape.length < 2 || !name.endsWith(".weight"))) {
            return new TensorPlan(name, shape, from, from, "kept (not a 2-D weight)");
        }
        DType want = override != null ? override : o.type();
        String why = override != null ? "per-tensor choice" : "";
        boolean isOutput = name.equals("output.weight") || (!hasOutput && name.equals("token_embd.weight"));
        if (override == null && o.mix() != null && !isOutput && !name.equals("token_embd.weight")) {
            if (model == null) {
                throw new IllegalArgumentException("tensor " + name + ": the " + o.mix().label()
                        + " rules need the model's layer counts (plan the whole file)");
            }
            KQuantMix.Choice c = o.mix().choose(name, model);
            want = c.type();
            why = c.reason();
        }
        if (override == null) {
            if (isOutput && o.outputType() != null) {
                want = o.outputType();
                why = "output type";
            } else if (isOutput && want.isQuantized()) {
                if (cols % 256 != 0) {
                    want = DType.Q8_0;
                    why = "output head, rows of " + cols + " (llama.cpp: Q8_0)";
                } else if (want != DType.Q8_0) {
                    want = DType.Q6_K;
                    why = "output head (llama.cpp: Q6_K)";
                }
            }
            if (name.equals("token_embd.weight") && o.tokenEmbeddingType() != null) {
                want = o.tokenEmbeddingType();
                why = "token embedding type";
            }
        }
        if (cols % want.blockSize() != 0) {
            DType fallback = switch (want) {
                // llama.cpp uses IQ4_NL here (4.5 bits, 32-value blocks); Q4_0 has the same size and
                // block, and this project has no IQ4_NL quantizer.
                case Q2_K, Q3_K -> DType.Q4_0;
                case Q4_K -> DType.Q5_0;
                case Q5_K -> DType.Q5_1;
                case Q6_K -> DType.Q8_0;
                default -> DType.F16;
            };
            if (cols % fallback.blockSize() != 0) {
                fallback = DType.F16;
            }
            why = "rows of " + cols + " are not whole " + want + " blocks";
            want = fallback;
        }
        if (want != from && from.isQuantized() && !o.allowRequantize()) {
            throw new IllegalArgumentException("tensor " + name + " is already " + from
                    + "; quantizing it again loses quality (allow it explicitly, or start from an F32/F16/BF16 model)");
        }
        if (want != from && !Dequantize.supports(from)) {
            throw new IllegalArgumentException("tensor " + name + ": cannot read weight type " + from);
        }
        return new TensorPlan(name, shape, from, want, why);
    }

    /**
     * Writes {@code src} with {@code plan}'s types to {@code dest} (temporary file, then moved).
     *
     * @param progress receives element counts as they are done (from worker threads); may be null
     */
    public static void write(GgufFile src, List<TensorPlan> plan, QuantizeOptions o, Path dest, LongConsumer progress)
            throws IOException {
        GgufWriter w = GgufWriter.copyOf(src);
        int threads = o.threads() > 0 ? o.threads() : Runtime.getRuntime().availableProcessors();
        LongConsumer p = progress != null ? progress : n -> { };
        try (ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread th = new Thread(r, "offramp-quantize");
            th.setDaemon(true);
            return th;
        })) {
            for (TensorPlan tp : plan) {
                Tensor t = src.tensor(tp.name());
                if (!tp.converts()) {
                    continue;
                }
                w.addTensor(tp.name(), tp.to(), tp.shape(), ch -> encodeTensor(t, tp.to(), pool, threads, ch, p));
            }
            w.put("general.file_type", GgufValue.uint32(o.fileType()));
            w.put("general.quantization_version", GgufValue.uint32(2));
            w.write(dest);
        }
        for (TensorPlan tp : plan) {
            if (!tp.converts()) {
                p.accept(tp.elements());
            }
        }
    }

    /**
     * llama.cpp's {@code llama_ftype} for a uniform type (the k-quants as their "_S" variants; a real
     * mix's number comes from {@link KQuantMix#fileType()}).
     */
    public static int fileType(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case Q4_K -> 14;
            case Q5_K -> 16;
            case Q2_K -> 10;
            case Q3_K -> 11;
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no llama.cpp file type for " + t);
        };
    }

    /**
     * A {@link GgufWriter.TensorProducer} that re-encodes {@code t} as {@code to}, row-parallel on
     * {@code pool} ({@code threads} workers), reporting finished elements to {@code progress}.
     */
    public static GgufWriter.TensorProducer producer(Tensor t, DType to, ExecutorService pool, int threads,
                                                     LongConsumer progress) {
        return ch -> encodeTensor(t, to, pool, threads, ch, progress);
    }

    /** Re-encodes {@code t} as {@code to} into {@code ch} (exactly {@code to.bytesFor(elements)} bytes). */
    public static void encodeTensor(Tensor t, DType to, ExecutorService pool, int threads, WritableByteChannel ch,
                                    LongConsumer progress) throws IOException {
        int cols = Math.toIntExact(t.cols());
        long rows = t.rows();
        long srcRowBytes = t.type().bytesFor(cols);
        long dstRowBytes = to.bytesFor(cols);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment out = arena.allocate(rows * dstRowBytes, 64);
            long per = Math.max(1, rows / (threads * 4L));
            List<Future<?>> parts = new ArrayList<>();
            for (long r0 = 0; r0 < rows; r0 += per) {
                long lo = r0;
                long hi = Math.min(rows, r0 + per);
                parts.add(pool.submit(() -> {
                    float[] buf = new float[cols];
                    for (long r = lo; r < hi; r++) {
                        Dequantize.row(t.type(), t.data(), r * srcRowBytes, buf, 0, cols);
                        RowCodec.encode(to, buf, 0, out, r * dstRowBytes, cols);
                    }
                    progress.accept((hi - lo) * cols);
                }));
            }
            for (Future<?> f : parts) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("quantizing " + t.name() + " to " + to + " failed: "
                            + e.getCause().getMessage(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while quantizing " + t.name());
                }
            }
            for (long off = 0; off < out.byteSize(); off += WRITE_SLICE) {
                ByteBuffer bb = out.asSlice(off, Math.min(WRITE_SLICE, out.byteSize() - off)).asByteBuffer();
                while (bb.hasRemaining()) {
                    ch.write(bb);
                }
            }
        }
    }
}
