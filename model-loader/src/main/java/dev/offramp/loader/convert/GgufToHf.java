package dev.offramp.loader.convert;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;
import dev.offramp.core.tensor.quant.Quantize;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufModelConfigs;
import dev.offramp.loader.hf.HfConfig;
import dev.offramp.loader.hf.HfTensorNames;
import dev.offramp.loader.hf.QkRowPermutation;
import dev.offramp.loader.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A GGUF to an HF folder ({@code config.json} + {@code model.safetensors}, and {@code generation_config.json}
 * with the bos/stop/pad ids when the GGUF names any: {@link GenerationConfigJson}): HF tensor names, q/k rows
 * back in rotate-half order for {@code llama}-arch files, quantized weights dequantized (to F32, or
 * the float type asked for). The folder is built under a temporary name next to the destination and
 * renamed into place, so a failure leaves nothing behind. A SentencePiece ({@code llama}) vocabulary is
 * written as {@code tokenizer.model} + {@code tokenizer_config.json}, a byte-level BPE ({@code gpt2}) one
 * as {@code tokenizer.json} + {@code tokenizer_config.json} ({@link TokenizerJsonWriter}); other
 * vocabularies are not written (load the folder with {@code --tokenizer THE.gguf}).
 *
 * <pre>{@code
 * GgufToHf.convert(Path.of("model.gguf"), Path.of("model-hf"), ConvertOptions.defaults());
 * }</pre>
 */
public final class GgufToHf {

    private static final System.Logger LOG = System.getLogger(GgufToHf.class.getName());

    private GgufToHf() {
    }

    public static void convert(Path gguf, Path destDir, ConvertOptions o) throws IOException {
        if (o.type() != null && o.type() != DType.F32 && o.type() != DType.F16 && o.type() != DType.BF16) {
            throw new ConversionException(destDir, "an HF folder is written as F32, F16 or BF16, not " + o.type());
        }
        if (Files.exists(destDir) && (!Files.isDirectory(destDir) || !isEmpty(destDir))) {
            throw new java.nio.file.FileAlreadyExistsException(destDir.toString(), null,
                    "destination exists and is not an empty folder");
        }
        Path abs = destDir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        try (GgufFile g = GgufFile.open(gguf); Arena arena = Arena.ofShared()) {
            ModelConfig c = GgufModelConfigs.from(g);
            boolean unpermute = c.ropeStyle() == RopeStyle.NORMAL;
            ModelConfig hfConfig = new ModelConfig(c.architecture(), c.vocabSize(), c.dim(), c.layers(), c.heads(),
                    c.kvHeads(), c.headDim(), c.ffnDim(), c.contextLength(), c.normEps(), c.ropeTheta(), c.ropeDim(),
                    RopeStyle.NEOX, c.ropeScaling(), c.tiedEmbeddings(), c.attentionBias(), c.attentionOutBias(),
                    c.mlpBias());
            List<Tensor> out = new ArrayList<>();
            DType outType = null;
            for (Tensor t : g.tensors().values()) {
                if (t.name().equals("rope_freqs.weight")) {
                    continue; // derived from rope_scaling in config.json
                }
                String hfName = HfTensorNames.toHf(t.name()).orElseThrow(() -> new ConversionException(gguf,
                        "tensor " + t.name() + " has no HF name (not a Llama-family tensor)"));
                DType to = o.type() != null ? o.type()
                        : (t.type() == DType.F32 || t.type() == DType.F16 || t.type() == DType.BF16) ? t.type() : DType.F32;
                if (t.rank() < 2 && o.type() == null) {
                    to = t.type().isQuantized() ? DType.F32 : t.type();
                }
                Tensor x = to == t.type() ? t : recode(t, to, arena);
                if (unpermute && (t.name().endsWith("attn_q.weight") || t.name().endsWith("attn_q.bias"))) {
                    x = QkRowPermutation.ggufToHf(x, c.heads(), arena);
                } else if (unpermute && (t.name().endsWith("attn_k.weight") || t.name().endsWith("attn_k.bias"))) {
                    x = QkRowPermutation.ggufToHf(x, c.kvHeads(), arena);
                }
                if (t.rank() >= 2 && outType == null) {
                    outType = to;
                }
                out.add(new Tensor(hfName, x.type(), x.shape(), x.data()));
            }
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("torch_dtype", switch (outType == null ? DType.F32 : outType) {
                case F16 -> "float16";
                case BF16 -> "bfloat16";
                default -> "float32";
            });
            int bos = g.metadata().getInt("tokenizer.ggml.bos_token_id", -1);
            int eos = g.metadata().getInt("tokenizer.ggml.eos_token_id", -1);
            if (bos >= 0) {
                extra.put("bos_token_id", bos);
            }
            if (eos >= 0) {
                extra.put("eos_token_id", eos);
            }
            String json = HfConfig.toJson(hfConfig, extra);
            // built before anything is written, so a vocabulary that cannot be expressed fails fast; config.json
            // keeps vocab_size = the embedding rows, which is how HF records rows beyond the tokenizer's tokens
            TokenizerJsonWriter.Output bpe = TokenizerJsonWriter.canWrite(g.metadata())
                    ? TokenizerJsonWriter.toJson(g.metadata()) : null;
            // HF's generate() stops at generation_config.json's ids, not config.json's single eos: a chat
            // model's end-of-turn id (Llama 3's <|eot_id|>) only stops generation when it is listed there
            int tokenCount = g.metadata().findArray("tokenizer.ggml.tokens").map(a -> a.size()).orElse(c.vocabSize());
            String generationConfig = GenerationConfigJson.fromGguf(g.metadata(), tokenCount).orElse(null);
            Path tmp = Files.createTempDirectory(parent, "." + abs.getFileName() + ".");
            boolean done = false;
            try {
                // a temp directory is created owner-only (rwx------); the folder it becomes is an ordinary one
                if (Files.getFileStore(tmp).supportsFileAttributeView(java.nio.file.attribute.PosixFileAttributeView.class)) {
                    Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                }
                Files.writeString(tmp.resolve("config.json"), json);
                if (generationConfig != null) {
                    Files.writeString(tmp.resolve(GenerationConfigJson.FILE), generationConfig);
                }
                SafetensorsWriter.write(tmp.resolve("model.safetensors"), Map.of("format", "pt"), out);
                if (SentencePieceWriter.canWrite(g.metadata())) {
                    Files.write(tmp.resolve("tokenizer.model"), SentencePieceWriter.toModel(g.metadata()));
                    Files.writeString(tmp.resolve("tokenizer_config.json"), tokenizerConfig(g));
                } else if (bpe != null) {
                    Files.writeString(tmp.resolve("tokenizer.json"), bpe.tokenizerJson());
                    Files.writeString(tmp.resolve("tokenizer_config.json"), bpe.tokenizerConfigJson());
                } else if (g.metadata().contains("tokenizer.ggml.model")) {
                    LOG.log(System.Logger.Level.WARNING, "{0}: a {1} vocabulary cannot be written as an HF tokenizer "
                            + "yet; load {2} with --tokenizer {0}", gguf,
                            g.metadata().getString("tokenizer.ggml.model"), destDir);
                }
                if (Files.exists(abs)) {
                    Files.delete(abs); // an empty folder, checked above
                }
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
                done = true;
            } finally {
                if (!done) {
                    deleteTree(tmp);
                }
            }
        }
    }

    /** A minimal tokenizer_config.json for HF's LlamaTokenizer next to the written tokenizer.model. */
    private static String tokenizerConfig(GgufFile g) {
        String[] tokens = g.metadata().getStringArray("tokenizer.ggml.tokens");
        com.fasterxml.jackson.databind.node.ObjectNode o =
                com.fasterxml.jackson.databind.json.JsonMapper.builder().build().createObjectNode();
        o.put("tokenizer_class", "LlamaTokenizer");
        o.put("add_bos_token", g.metadata().getBool("tokenizer.ggml.add_bos_token", true));
        o.put("add_eos_token", g.metadata().getBool("tokenizer.ggml.add_eos_token", false));
        for (String[] k : new String[][] {{"bos_token", "tokenizer.ggml.bos_token_id"},
                {"eos_token", "tokenizer.ggml.eos_token_id"}, {"unk_token", "tokenizer.ggml.unknown_token_id"}}) {
            long id = g.metadata().getLong(k[1], -1);
            if (id >= 0 && id < tokens.length) {
                o.put(k[0], tokens[(int) id]);
            }
        }
        return o.toPrettyString() + "\n";
    }

    /** Dequantizes (or re-rounds) {@code t} into a new segment of type {@code to} (F32, F16 or BF16). */
    private static Tensor recode(Tensor t, DType to, Arena arena) {
        if (!Dequantize.supports(t.type())) {
            throw new IllegalArgumentException("tensor " + t.name() + ": cannot read weight type " + t.type());
        }
        int cols = Math.toIntExact(t.cols());
        long rows = t.rows();
        MemorySegment dst = arena.allocate(to.bytesFor(t.elementCount()), 8);
        float[] buf = new float[cols];
        long srcRow = t.type().bytesFor(cols);
        long dstRow = to.bytesFor(cols);
        for (long r = 0; r < rows; r++) {
            Dequantize.row(t.type(), t.data(), r * srcRow, buf, 0, cols);
            Quantize.row(to, buf, 0, dst, r * dstRow, cols);
        }
        return new Tensor(t.name(), to, t.shape(), dst);
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
