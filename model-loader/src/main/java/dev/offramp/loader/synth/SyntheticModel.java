package dev.offramp.loader.synth;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.DType;
import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.gguf.GgufValueType;
import dev.offramp.loader.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes random-weight Llama-architecture GGUFs at real models' shapes, for speed measurements
 * (timing does not depend on weight values) and exit-machinery tests. The tokenizer metadata of a
 * real vocabulary is copied in, so llama.cpp loads the file too. Tensors are streamed into the file
 * a chunk at a time (no model is ever held in memory), into a temporary file that is then moved
 * into place; the same options give the same bytes.
 *
 * <pre>{@code
 * SynthOptions o = SynthOptions.of(SynthShape.named("tinyllama-1.1b").orElseThrow(), DType.Q4_0)
 *         .withSeed(1).withVocabFile(Path.of("ggml-vocab-llama-spm.gguf"));
 * SynthPlan plan = SyntheticModel.plan(o);        // cheap: tensor table + metadata
 * SyntheticModel.write(o, Path.of("tinyllama-q4_0.gguf"));
 * }</pre>
 */
public final class SyntheticModel {

    private static final System.Logger LOG = System.getLogger(SyntheticModel.class.getName());
    /** Llama 3.1/3.2 RoPE scaling constants (factor, low/high frequency factors, original context). */
    private static final RopeScaling.Llama3 LLAMA3_SCALING = new RopeScaling.Llama3(32f, 1f, 4f, 8192);

    private SyntheticModel() {
    }

    /** The tensor table and metadata {@link #write} would produce; reads only the vocabulary's metadata. */
    public static SynthPlan plan(SynthOptions o) throws IOException {
        return plan(o, tokenizerMetadata(o));
    }

    /** Writes the model to {@code out} (temp file in the same folder, then moved); returns its plan. */
    public static SynthPlan write(SynthOptions o, Path out) throws IOException {
        SynthPlan plan = plan(o);
        WeightStream stream = new WeightStream(o.seed());
        float[] ropeFreqs = o.shape().llama3Rope() ? llama3Divisors(o.shape()) : null;
        GgufWriter w = GgufWriter.create().putAll(plan.metadata());
        for (PlannedTensor t : plan.tensors()) {
            if (t.fill() == PlannedTensor.Fill.ZERO) {
                w.addZeroTensor(t.name(), t.type(), t.shape()); // zero bytes decode to 0 in every type used here
            } else {
                w.addTensor(t.name(), t.type(), t.shape(), ch -> stream.write(t, ropeFreqs, ch));
            }
        }
        long start = System.nanoTime();
        w.write(out);
        LOG.log(System.Logger.Level.INFO, () -> String.format("wrote %s: %s %s, %d tensors, %.1f MB in %.1f s",
                out, o.shape().name(), o.type(), plan.tensors().size(), plan.dataBytes() / 1e6,
                (System.nanoTime() - start) / 1e9));
        return plan;
    }

    static SynthPlan plan(SynthOptions o, Map<String, GgufValue> tokenizer) {
        SynthShape s = o.shape();
        for (DType t : new DType[]{o.type(), o.embeddingType(), o.outputType()}) {
            if (t != null && !WeightStream.canEncode(t)) {
                throw new IllegalArgumentException("no quantizer for weight type " + t + " (supported: "
                        + "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
            }
        }
        int hd = s.headDim();
        long dim = s.dim();
        long qDim = (long) s.heads() * hd;
        long kvDim = (long) s.kvHeads() * hd;
        long ffn = s.ffnDim();
        DType w = o.type();
        DType wDim = o.typeFor("", dim, false);   // rows of dim values (q, k, v, gate, up)
        DType wQ = o.typeFor("", qDim, false);    // attn_output rows
        DType wFfn = o.typeFor("", ffn, false);   // ffn_down rows
        List<PlannedTensor> t = new ArrayList<>();
        t.add(new PlannedTensor("token_embd.weight", o.typeFor("token_embd.weight", dim, s.tied()),
                new long[]{s.vocabSize(), dim}, PlannedTensor.Fill.RANDOM));
        if (s.llama3Rope()) {
            t.add(new PlannedTensor("rope_freqs.weight", DType.F32, new long[]{hd / 2}, PlannedTensor.Fill.ROPE_FREQS));
        }
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            PlannedTensor.Fill out = o.inertFrom() >= 0 && l >= o.inertFrom()
                    ? PlannedTensor.Fill.ZERO : PlannedTensor.Fill.RANDOM;
            t.add(new PlannedTensor(b + "attn_norm.weight", DType.F32, new long[]{dim}, PlannedTensor.Fill.ONES));
            t.add(new PlannedTensor(b + "attn_q.weight", wDim, new long[]{qDim, dim}, PlannedTensor.Fill.RANDOM));
            t.add(new PlannedTensor(b + "attn_k.weight", wDim, new long[]{kvDim, dim}, PlannedTensor.Fill.RANDOM));
            t.add(new PlannedTensor(b + "attn_v.weight", wDim, new long[]{kvDim, dim}, PlannedTensor.Fill.RANDOM));
            t.add(new PlannedTensor(b + "attn_output.weight", wQ, new long[]{dim, qDim}, out));
            t.add(new PlannedTensor(b + "ffn_norm.weight", DType.F32, new long[]{dim}, PlannedTensor.Fill.ONES));
            t.add(new PlannedTensor(b + "ffn_gate.weight", wDim, new long[]{ffn, dim}, PlannedTensor.Fill.RANDOM));
            t.add(new PlannedTensor(b + "ffn_up.weight", wDim, new long[]{ffn, dim}, PlannedTensor.Fill.RANDOM));
            t.add(new PlannedTensor(b + "ffn_down.weight", wFfn, new long[]{dim, ffn}, out));
        }
        t.add(new PlannedTensor("output_norm.weight", DType.F32, new long[]{dim}, PlannedTensor.Fill.ONES));
        if (!s.tied()) {
            t.add(new PlannedTensor("output.weight", o.typeFor("output.weight", dim, true), new long[]{s.vocabSize(), dim},
                    PlannedTensor.Fill.RANDOM));
        }

        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.string("llama"));
        md.put("general.name", GgufValue.string("offramp-synth-" + s.name()));
        Integer fileType = fileType(w);
        if (fileType != null) {
            md.put("general.file_type", GgufValue.uint32(fileType));
        }
        if (w.isQuantized()) {
            md.put("general.quantization_version", GgufValue.uint32(2));
        }
        md.put("llama.vocab_size", GgufValue.uint32(s.vocabSize()));
        md.put("llama.context_length", GgufValue.uint32(s.contextLength()));
        md.put("llama.embedding_length", GgufValue.uint32(s.dim()));
        md.put("llama.block_count", GgufValue.uint32(s.layers()));
        md.put("llama.feed_forward_length", GgufValue.uint32(s.ffnDim()));
        md.put("llama.attention.head_count", GgufValue.uint32(s.heads()));
        md.put("llama.attention.head_count_kv", GgufValue.uint32(s.kvHeads()));
        md.put("llama.rope.dimension_count", GgufValue.uint32(hd));
        md.put("llama.rope.freq_base", GgufValue.float32(s.ropeTheta()));
        md.put("llama.attention.layer_norm_rms_epsilon", GgufValue.float32(s.normEps()));
        md.putAll(tokenizer);
        md.put("offramp.synth.shape", GgufValue.string(s.name()));
        md.put("offramp.synth.seed", GgufValue.uint64(o.seed()));
        if (o.inertFrom() >= 0) {
            md.put("offramp.synth.inert_from", GgufValue.uint32(o.inertFrom()));
        }
        ModelConfig config = new ModelConfig("llama", s.vocabSize(), s.dim(), s.layers(), s.heads(), s.kvHeads(), hd,
                s.ffnDim(), s.contextLength(), s.normEps(), s.ropeTheta(), hd, RopeStyle.NORMAL,
                s.llama3Rope() ? LLAMA3_SCALING : RopeScaling.NONE, s.tied(), false, false, false);
        return new SynthPlan(o, config, md, t);
    }

    /** llama.cpp's {@code llama_ftype} for files whose matrices are all {@code t}. */
    private static Integer fileType(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case Q4_K -> 14; // Q4_K_S / Q5_K_S: every matrix in the type, the head in Q6_K
            case Q5_K -> 16;
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> null;
        };
    }

    /** The {@code tokenizer.*} keys of the vocabulary file, checked against the shape's vocabulary size. */
    private static Map<String, GgufValue> tokenizerMetadata(SynthOptions o) throws IOException {
        SynthShape s = o.shape();
        if (o.vocabFile() == null) {
            if (s.vocab() != SynthVocab.NONE) {
                throw new IllegalArgumentException("shape " + s.name() + " borrows the " + s.vocab()
                        + " tokenizer: give its GGUF (usually " + s.vocab().usualFile() + ")");
            }
            return Map.of();
        }
        Map<String, GgufValue> md = new LinkedHashMap<>();
        try (GgufFile vocab = GgufFile.open(o.vocabFile())) {
            for (Map.Entry<String, GgufValue> e : vocab.metadata().entries().entrySet()) {
                if (e.getKey().startsWith("tokenizer.")) {
                    md.put(e.getKey(), e.getValue());
                }
            }
        }
        GgufValue tokens = md.get("tokenizer.ggml.tokens");
        if (tokens == null || tokens.type() != GgufValueType.ARRAY) {
            throw new IOException(o.vocabFile() + ": no tokenizer.ggml.tokens array to copy");
        }
        int n = ((GgufArray) tokens.value()).size();
        if (n != s.vocabSize()) {
            throw new IOException(o.vocabFile() + ": has " + n + " tokens but shape " + s.name() + " needs "
                    + s.vocabSize() + (s.vocab() == SynthVocab.NONE ? "" : " (" + s.vocab() + ", usually "
                    + s.vocab().usualFile() + ")"));
        }
        return md;
    }

    /**
     * Llama 3.1 frequency divisors per rotated pair: 1 for short wavelengths, {@code factor} for long
     * ones, and a smooth blend between (the values a {@code rope_freqs} tensor holds).
     */
    static float[] llama3Divisors(SynthShape s) {
        RopeScaling.Llama3 r = LLAMA3_SCALING;
        int hd = s.headDim();
        float[] out = new float[hd / 2];
        double lowWavelen = r.originalContext() / (double) r.lowFreqFactor();
        double highWavelen = r.originalContext() / (double) r.highFreqFactor();
        for (int i = 0; i < out.length; i++) {
            double freq = Math.pow(s.ropeTheta(), -2.0 * i / hd);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                out[i] = 1f;
            } else if (wavelen > lowWavelen) {
                out[i] = r.factor();
            } else {
                double smooth = (r.originalContext() / wavelen - r.lowFreqFactor())
                        / (r.highFreqFactor() - r.lowFreqFactor());
                out[i] = (float) (1.0 / ((1 - smooth) / r.factor() + smooth));
            }
        }
        return out;
    }
}
