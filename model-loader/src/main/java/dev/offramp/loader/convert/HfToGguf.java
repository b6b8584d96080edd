package dev.offramp.loader.convert;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.gguf.GgufWriter;
import dev.offramp.loader.hf.HfModelSource;
import dev.offramp.loader.hf.QkRowPermutation;
import dev.offramp.loader.quantize.GgufQuantizer;
import dev.offramp.loader.quantize.QuantizeOptions;
import dev.offramp.loader.quantize.TensorPlan;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An HF folder (config.json, safetensors shards) to a GGUF llama.cpp loads: llama.cpp's metadata keys,
 * GGUF tensor names, and, for the {@code llama} architecture, q/k rows permuted from HF's rotate-half
 * order to llama.cpp's interleaved pairs (as llama.cpp's own converter does; Qwen2 keeps NeoX order).
 * 1-D tensors are stored as F32, like llama.cpp's converter. The tokenizer metadata comes from
 * {@link ConvertOptions#tokenizer()} when given (a GGUF's keys are copied; a {@code tokenizer.json},
 * {@code tokenizer.model} or a folder holding one is converted: HF folders often ship without one),
 * else from the folder's SentencePiece {@code tokenizer.model} or byte-level BPE {@code tokenizer.json}
 * ({@link TokenizerJsonVocab}). Stop ids that the folder's {@code generation_config.json} lists beyond the
 * tokenizer's eos become {@code tokenizer.ggml.eot_token_id} / {@code eom_token_id} where those are unset
 * ({@link GenerationConfigJson}).
 *
 * <pre>{@code
 * HfToGguf.convert(Path.of("stories260K-hf"), Path.of("out.gguf"),
 *         ConvertOptions.defaults().withTokenizer(Path.of("stories260K.gguf")));
 * }</pre>
 */
public final class HfToGguf {

    private HfToGguf() {
    }

    /** Returns the tensors written with their types. */
    public static List<TensorPlan> convert(Path hfDir, Path dest, ConvertOptions o) throws IOException {
        Path tokenizerFile = o.tokenizer() == null ? null : tokenizerFile(o.tokenizer());
        Map<String, GgufValue> tokenizer = tokenizerMetadata(hfDir, tokenizerFile);
        // the model folder's generation_config.json, whichever tokenizer source: its extra stop ids belong to the model
        Map<String, GgufValue> stopIds = GenerationConfigJson.extraStopIds(hfDir, tokenizer);
        try (HfModelSource src = HfModelSource.open(hfDir, tokenizerFile);
             Arena arena = Arena.ofShared()) {
            ModelConfig c = src.config();
            String arch = switch (c.architecture()) {
                // llama.cpp's converter writes Mistral (no sliding window) as the llama architecture.
                case "llama", "mistral" -> "llama";
                case "qwen2" -> "qwen2";
                default -> throw new ConversionException(hfDir, "architecture '" + c.architecture()
                        + "' cannot be converted (supported: llama, mistral, qwen2)");
            };
            boolean permute = arch.equals("llama");
            Map<String, Tensor> tensors = src.tensors();
            boolean hasOutput = tensors.containsKey("output.weight");
            QuantizeOptions qo = o.type() == null ? null : QuantizeOptions.of(o.type()).withThreads(o.threads());
            GgufWriter w = GgufWriter.create();
            metadata(w, c, arch, hfDir, o.type());
            w.putAll(tokenizer);
            w.putAll(stopIds);
            int threads = o.threads() > 0 ? o.threads() : Runtime.getRuntime().availableProcessors();
            List<TensorPlan> plans = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
                for (Tensor t0 : tensors.values()) {
                    Tensor t = t0;
                    if (!(t.type() == DType.F32 || t.type() == DType.F16 || t.type() == DType.BF16)) {
                        throw new ConversionException(hfDir, "tensor " + t.name() + " has dtype " + t.type()
                                + "; only F32, F16 and BF16 checkpoints can be converted");
                    }
                    if (permute && isQk(t.name())) {
                        int heads = t.name().contains("attn_q") ? c.heads() : c.kvHeads();
                        t = QkRowPermutation.hfToGguf(t, heads, arena);
                    }
                    DType to;
                    TensorPlan plan;
                    if (t.rank() < 2) {
                        to = DType.F32;
                        plan = new TensorPlan(t.name(), t.shape(), t.type(), to, "1-D tensors are stored as F32");
                    } else if (qo == null) {
                        plan = new TensorPlan(t.name(), t.shape(), t.type(), t.type(), "");
                        to = t.type();
                    } else {
                        plan = GgufQuantizer.planOne(t, qo, hasOutput);
                        to = plan.to();
                    }
                    plans.add(plan);
                    if (to == t.type()) {
                        w.addTensor(t);
                    } else {
                        w.addTensor(t.name(), to, t.shape(), GgufQuantizer.producer(t, to, pool, threads, n -> { }));
                    }
                }
                w.write(dest);
            }
            return plans;
        }
    }

    private static boolean isQk(String name) {
        return name.endsWith("attn_q.weight") || name.endsWith("attn_k.weight")
                || name.endsWith("attn_q.bias") || name.endsWith("attn_k.bias");
    }

    private static void metadata(GgufWriter w, ModelConfig c, String arch, Path hfDir, DType type)
            throws ConversionException {
        String p = arch + ".";
        w.put("general.architecture", GgufValue.string(arch));
        Path name = hfDir.toAbsolutePath().normalize().getFileName();
        w.put("general.name", GgufValue.string(name == null ? "model" : name.toString()));
        w.put(p + "vocab_size", GgufValue.uint32(c.vocabSize()));
        w.put(p + "context_length", GgufValue.uint32(c.contextLength()));
        w.put(p + "embedding_length", GgufValue.uint32(c.dim()));
        w.put(p + "block_count", GgufValue.uint32(c.layers()));
        w.put(p + "feed_forward_length", GgufValue.uint32(c.ffnDim()));
        w.put(p + "attention.head_count", GgufValue.uint32(c.heads()));
        w.put(p + "attention.head_count_kv", GgufValue.uint32(c.kvHeads()));
        if (c.headDim() != c.dim() / c.heads()) {
            w.put(p + "attention.key_length", GgufValue.uint32(c.headDim()));
            w.put(p + "attention.value_length", GgufValue.uint32(c.headDim()));
        }
        w.put(p + "rope.dimension_count", GgufValue.uint32(c.ropeDim()));
        w.put(p + "rope.freq_base", GgufValue.float32(c.ropeTheta()));
        w.put(p + "attention.layer_norm_rms_epsilon", GgufValue.float32(c.normEps()));
        switch (c.ropeScaling()) {
            case RopeScaling.None n -> { }
            case RopeScaling.Linear l -> {
                w.put(p + "rope.scaling.type", GgufValue.string("linear"));
                w.put(p + "rope.scaling.factor", GgufValue.float32(l.factor()));
            }
            case RopeScaling.Llama3 l -> throw new ConversionException(hfDir,
                    "Llama 3 RoPE scaling needs a rope_freqs tensor, which this converter does not write yet");
        }
        if (type == null) {
            w.put("general.file_type", GgufValue.uint32(0));
        } else {
            w.put("general.file_type", GgufValue.uint32(GgufQuantizer.fileType(type)));
            if (type.isQuantized()) {
                w.put("general.quantization_version", GgufValue.uint32(2));
            }
        }
    }

    /**
     * The file {@code --tokenizer PATH} names: PATH itself, or for a folder its {@code tokenizer.model},
     * else its {@code tokenizer.json} (the order {@link #tokenizerMetadata} uses for the model folder).
     *
     * @throws ConversionException naming PATH when it is missing, unreadable or a folder without either file
     */
    static Path tokenizerFile(Path path) throws ConversionException {
        Path file = path;
        if (Files.isDirectory(path)) {
            file = Files.isRegularFile(path.resolve("tokenizer.model")) ? path.resolve("tokenizer.model")
                    : path.resolve("tokenizer.json");
            if (!Files.isRegularFile(file)) {
                throw new ConversionException(path, "--tokenizer: the folder holds no tokenizer.json or tokenizer.model");
            }
        } else if (!Files.exists(path)) {
            throw new ConversionException(path, "--tokenizer: no such file or folder");
        } else if (!Files.isRegularFile(path)) {
            throw new ConversionException(path, "--tokenizer: not a regular file or folder");
        }
        if (!Files.isReadable(file)) {
            throw new ConversionException(file, "--tokenizer: the file is not readable");
        }
        return file;
    }

    /**
     * {@code tokenizer.*} keys: from the file given as tokenizer (a GGUF's keys are copied; a
     * SentencePiece {@code .model} or a byte-level BPE {@code tokenizer.json} is converted, the JSON
     * with the files beside it), else from the folder's {@code tokenizer.model}, else its
     * {@code tokenizer.json}.
     */
    static Map<String, GgufValue> tokenizerMetadata(Path hfDir, Path tokenizer) throws IOException {
        if (tokenizer == null) {
            if (Files.isRegularFile(hfDir.resolve("tokenizer.model"))) {
                return SentencePieceVocab.read(hfDir.resolve("tokenizer.model"));
            }
            if (Files.isRegularFile(hfDir.resolve("tokenizer.json"))) {
                return TokenizerJsonVocab.read(hfDir);
            }
            throw new ConversionException(hfDir, "no tokenizer (no tokenizer.json or tokenizer.model): pass "
                    + "--tokenizer PATH (a tokenizer.json, tokenizer.model, a folder with one, or a GGUF to copy the vocabulary from)");
        }
        tokenizer = tokenizerFile(tokenizer);
        byte[] magic = new byte[4];
        try (var in = Files.newInputStream(tokenizer)) {
            if (in.readNBytes(magic, 0, 4) != 4 || magic[0] != 'G' || magic[1] != 'G' || magic[2] != 'U' || magic[3] != 'F') {
                String name = tokenizer.getFileName().toString();
                if (name.endsWith(".json")) {
                    return TokenizerJsonVocab.readFile(tokenizer, hfDir);
                }
                if (name.endsWith(".model")) {
                    return SentencePieceVocab.read(tokenizer);
                }
                throw new ConversionException(tokenizer, "--tokenizer: neither a GGUF, a tokenizer.json nor a "
                        + "SentencePiece .model file");
            }
        }
        Map<String, GgufValue> out = new LinkedHashMap<>();
        try (GgufFile g = GgufFile.open(tokenizer)) {
            g.metadata().entries().forEach((k, v) -> {
                if (k.startsWith("tokenizer.")) {
                    out.put(k, v);
                }
            });
        }
        if (!out.containsKey("tokenizer.ggml.model")) {
            throw new ConversionException(tokenizer, "GGUF has no tokenizer.ggml.model vocabulary to copy");
        }
        return out;
    }
}
