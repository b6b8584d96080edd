package dev.offramp.loader.inspect;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.ModelFormat;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufFormatException;
import dev.offramp.loader.gguf.GgufMetadata;
import dev.offramp.loader.gguf.GgufModelConfigs;
import dev.offramp.loader.gguf.GgufModelFormat;
import dev.offramp.loader.gguf.GgufValue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;

/**
 * Describes a model file or folder: architecture, config, tokenizer, tensor table, sizes. GGUF
 * files are read directly (so vocab-only files and unsupported architectures still show their
 * tensors and metadata); anything else goes to whichever {@link ModelFormat} accepts the path.
 *
 * <pre>{@code
 * InspectReport r = ModelInspector.inspect(Path.of("stories260K.gguf"));
 * System.out.println(ModelInspector.toText(r));      // or toJson(r)
 * }</pre>
 */
public final class ModelInspector {

    /** Arrays longer than this are shown as a summary in reports. */
    private static final int ARRAY_PREVIEW = 8;

    private ModelInspector() {
    }

    public static InspectReport inspect(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "no such file or folder");
        }
        if (new GgufModelFormat().accepts(path)) {
            return inspectGguf(path);
        }
        for (ModelFormat f : ServiceLoader.load(ModelFormat.class)) {
            if (!f.name().equals("gguf") && f.accepts(path)) {
                try (ModelSource src = f.open(path, null)) {
                    return fromSource(f.name(), src);
                }
            }
        }
        throw new IOException(path + ": not a model this build can read (no format accepts it: "
                + String.join(", ", ServiceLoader.load(ModelFormat.class).stream().map(p -> p.get().name()).toList()) + ")");
    }

    private static InspectReport inspectGguf(Path path) throws IOException {
        try (GgufFile g = GgufFile.open(path)) {
            GgufMetadata md = g.metadata();
            ModelConfig config = null;
            String configError = null;
            try {
                config = GgufModelConfigs.from(g);
            } catch (GgufFormatException e) {
                configError = e.getMessage();
            }
            long fileBytes = 0;
            for (Path p : g.paths()) {
                fileBytes += Files.size(p);
            }
            String info = "GGUF v" + g.version() + ", alignment " + g.alignment() + ", " + md.entries().size()
                    + " metadata keys" + (g.paths().size() > 1 ? ", " + g.paths().size() + " shards" : "");
            Map<String, Object> meta = new LinkedHashMap<>();
            md.entries().forEach((k, v) -> meta.put(k, summarize(v)));
            return new InspectReport(path, "gguf", info, fileBytes, md.getString("general.architecture", null), config,
                    configError, ggufTokenizer(md), rows(g.tensors()), sum(g.tensors()), meta);
        }
    }

    private static InspectReport.TokenizerSummary ggufTokenizer(GgufMetadata md) {
        String model = md.getString("tokenizer.ggml.model", null);
        if (model == null) {
            return null;
        }
        int vocab = md.findArray("tokenizer.ggml.tokens").map(GgufArray::size).orElse(0);
        int merges = md.findArray("tokenizer.ggml.merges").map(GgufArray::size).orElse(0);
        return new InspectReport.TokenizerSummary(model, md.getString("tokenizer.ggml.pre", null), vocab,
                md.getInt("tokenizer.ggml.bos_token_id", -1), md.getInt("tokenizer.ggml.eos_token_id", -1), merges);
    }

    private static InspectReport fromSource(String format, ModelSource src) throws IOException {
        Tokenizer tok = src.tokenizer().orElse(null);
        InspectReport.TokenizerSummary ts = tok == null ? null
                : new InspectReport.TokenizerSummary(tok.getClass().getSimpleName(), null, tok.vocabSize(), tok.bos(),
                tok.eos(), 0);
        long fileBytes;
        Path p = src.path();
        if (Files.isDirectory(p)) {
            try (Stream<Path> s = Files.list(p)) {
                fileBytes = s.filter(Files::isRegularFile).mapToLong(f -> {
                    try {
                        return Files.size(f);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }).sum();
            }
        } else {
            fileBytes = Files.size(p);
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        src.metadata().forEach((k, v) -> meta.put(k, v instanceof GgufArray a ? summarize(GgufValue.array(a)) : v));
        return new InspectReport(p, format, format, fileBytes, src.config().architecture(), src.config(), null, ts,
                rows(src.tensors()), sum(src.tensors()), meta);
    }

    private static List<InspectReport.TensorRow> rows(Map<String, Tensor> tensors) {
        List<InspectReport.TensorRow> rows = new ArrayList<>();
        for (Tensor t : tensors.values()) {
            rows.add(new InspectReport.TensorRow(t.name(), t.type().name(), t.shape(), t.byteSize()));
        }
        return rows;
    }

    private static long sum(Map<String, Tensor> tensors) {
        return tensors.values().stream().mapToLong(Tensor::byteSize).sum();
    }

    /** Scalars as plain values; arrays as their first elements plus a count (vocabularies are huge). */
    private static Object summarize(GgufValue v) {
        if (!(v.value() instanceof GgufArray a)) {
            return v.plain();
        }
        if (a.size() <= ARRAY_PREVIEW && a.elementType() != dev.offramp.loader.gguf.GgufValueType.ARRAY) {
            List<Object> l = new ArrayList<>();
            for (int i = 0; i < a.size(); i++) {
                l.add(a.plain(i));
            }
            return l;
        }
        return a.toString();
    }

    /** The report as pretty JSON (stable field names; shapes outermost first). */
    public static String toJson(InspectReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", r.path().toString());
        m.put("format", r.format());
        m.put("formatInfo", r.formatInfo());
        m.put("fileBytes", r.fileBytes());
        m.put("architecture", r.architecture());
        m.put("config", r.config() == null ? null : configMap(r.config()));
        if (r.configError() != null) {
            m.put("configError", r.configError());
        }
        m.put("tokenizer", r.tokenizer());
        m.put("tensorCount", r.tensors().size());
        m.put("tensorBytes", r.tensorBytes());
        m.put("tensors", r.tensors());
        m.put("metadata", r.metadata());
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Object> configMap(ModelConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architecture", c.architecture());
        m.put("vocabSize", c.vocabSize());
        m.put("dim", c.dim());
        m.put("layers", c.layers());
        m.put("heads", c.heads());
        m.put("kvHeads", c.kvHeads());
        m.put("headDim", c.headDim());
        m.put("ffnDim", c.ffnDim());
        m.put("contextLength", c.contextLength());
        m.put("normEps", c.normEps());
        m.put("ropeTheta", c.ropeTheta());
        m.put("ropeDim", c.ropeDim());
        m.put("ropeStyle", c.ropeStyle().name());
        m.put("ropeScaling", scalingText(c.ropeScaling()));
        m.put("tiedEmbeddings", c.tiedEmbeddings());
        m.put("attentionBias", c.attentionBias());
        m.put("attentionOutBias", c.attentionOutBias());
        m.put("mlpBias", c.mlpBias());
        return m;
    }

    private static String scalingText(RopeScaling s) {
        return switch (s) {
            case RopeScaling.None n -> "none";
            case RopeScaling.Linear l -> "linear x" + l.factor();
            case RopeScaling.Llama3 l -> "llama3 x" + l.factor() + " (low " + l.lowFreqFactor() + ", high "
                    + l.highFreqFactor() + ", original context " + l.originalContext() + ")";
        };
    }

    /** The report as aligned text for a terminal. */
    public static String toText(InspectReport r) {
        StringBuilder sb = new StringBuilder();
        line(sb, "file", r.path() + " (" + r.formatInfo() + ", " + bytes(r.fileBytes()) + ")");
        line(sb, "architecture", r.architecture() == null ? "(none)" : r.architecture());
        ModelConfig c = r.config();
        if (c != null) {
            line(sb, "config", String.format(Locale.ROOT,
                    "vocab %d, dim %d, layers %d, heads %d (kv %d, head dim %d), ffn %d, context %d",
                    c.vocabSize(), c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffnDim(), c.contextLength()));
            line(sb, "", String.format(Locale.ROOT, "norm eps %s, rope %s theta %s dim %d, scaling %s",
                    Float.toString(c.normEps()), c.ropeStyle(), trim(c.ropeTheta()), c.ropeDim(), scalingText(c.ropeScaling())));
            List<String> bias = new ArrayList<>();
            if (c.attentionBias()) {
                bias.add("qkv");
            }
            if (c.attentionOutBias()) {
                bias.add("attn out");
            }
            if (c.mlpBias()) {
                bias.add("mlp");
            }
            line(sb, "", "tied embeddings " + (c.tiedEmbeddings() ? "yes" : "no") + ", biases "
                    + (bias.isEmpty() ? "none" : String.join(", ", bias)));
        } else {
            line(sb, "config", "(none: " + r.configError() + ")");
        }
        InspectReport.TokenizerSummary t = r.tokenizer();
        line(sb, "tokenizer", t == null ? "(none)" : t.model() + (t.pre() == null ? "" : " / pre " + t.pre()) + ", "
                + t.vocabSize() + " tokens, bos " + t.bos() + ", eos " + t.eos()
                + (t.merges() > 0 ? ", " + t.merges() + " merges" : ""));
        if (r.metadata() != null && r.metadata().get("general.file_type") instanceof Number ft) {
            line(sb, "file type", dev.offramp.loader.quantize.LlamaFileType.name(ft.longValue())
                    + " (general.file_type " + ft + ")");
        }
        line(sb, "tensors", r.tensors().size() + ", " + bytes(r.tensorBytes()));
        int w = Math.max(4, r.tensors().stream().mapToInt(x -> x.name().length()).max().orElse(4));
        sb.append(String.format(Locale.ROOT, "  %-" + w + "s  %-6s  %-22s  %14s%n", "name", "type", "shape", "bytes"));
        for (InspectReport.TensorRow row : r.tensors()) {
            sb.append(String.format(Locale.ROOT, "  %-" + w + "s  %-6s  %-22s  %,14d%n", row.name(), row.type(),
                    java.util.Arrays.toString(row.shape()), row.bytes()));
        }
        return sb.toString();
    }

    private static String trim(float f) {
        return f == (long) f ? Long.toString((long) f) : Float.toString(f);
    }

    private static void line(StringBuilder sb, String label, String value) {
        sb.append(String.format(Locale.ROOT, "%-13s %s%n", label.isEmpty() ? "" : label + ":", value));
    }

    private static String bytes(long n) {
        if (n < 1024 * 1024) {
            return String.format(Locale.ROOT, "%,d bytes", n);
        }
        return String.format(Locale.ROOT, "%,d bytes = %.1f MiB", n, n / 1048576.0);
    }
}
