package dev.offramp.loader.quantize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;
import dev.offramp.core.tensor.quant.Fp8Weights;
import dev.offramp.core.tensor.quant.Int4PackQuantized;
import dev.offramp.loader.convert.ConversionException;
import dev.offramp.loader.safetensors.SafetensorsCheckpoint;
import dev.offramp.loader.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * HF folder in, HF folder out, with the linear layers' weights in the compressed-tensors formats
 * vLLM and llm-compressor read (config.json gets a {@code quantization_config} of
 * {@code quant_method = compressed-tensors}):
 * <ul>
 *   <li>{@link Scheme#FP8}: {@code format = float-quantized}, channel strategy: {@code X.weight}
 *       F8_E4M3 {@code [out, in]} plus {@code X.weight_scale} F32 {@code [out, 1]};</li>
 *   <li>{@link Scheme#INT4}: {@code format = pack-quantized}, symmetric int4, group 128:
 *       {@code X.weight_packed} I32 {@code [out, in/8]}, {@code X.weight_scale} F32 {@code [out, in/128]},
 *       {@code X.weight_shape} I64 {@code [2]} (see {@link Int4PackQuantized}).</li>
 * </ul>
 * Embeddings, norms and {@code lm_head} stay as they are (compressed-tensors targets {@code Linear}
 * and ignores {@code lm_head}); a linear layer whose input width is not whole groups is kept and listed
 * under {@code ignore}.
 *
 * <pre>{@code
 * CompressedTensorsQuantizer.write(Path.of("model-hf"), Path.of("model-fp8"), Scheme.FP8);
 * }</pre>
 */
public final class CompressedTensorsQuantizer {

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The two weight formats written. */
    public enum Scheme { FP8, INT4 }

    private CompressedTensorsQuantizer() {
    }

    private static final String[] LINEAR = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

    static boolean isLinear(String name) {
        if (!name.endsWith(".weight")) {
            return false;
        }
        for (String l : LINEAR) {
            if (name.endsWith("." + l + ".weight")) {
                return true;
            }
        }
        return false;
    }

    public static void write(Path hfDir, Path destDir, Scheme scheme) throws IOException {
        Path config = hfDir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new ConversionException(hfDir, "no config.json: not an HF model folder");
        }
        if (Files.exists(destDir)) {
            throw new java.nio.file.FileAlreadyExistsException(destDir.toString(), null, "destination exists");
        }
        Path abs = destDir.toAbsolutePath().normalize();
        Files.createDirectories(abs.getParent());
        ObjectNode cfg = (ObjectNode) JSON.readTree(config.toFile());
        if (cfg.has("quantization_config")) {
            throw new ConversionException(config, "the model is already quantized (quantization_config present)");
        }
        List<String> ignored = new ArrayList<>(List.of("lm_head"));
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(hfDir); Arena arena = Arena.ofShared()) {
            List<Tensor> out = new ArrayList<>();
            for (Tensor t : ckpt.tensors().values()) {
                if (!isLinear(t.name()) || t.rank() != 2) {
                    out.add(t);
                    continue;
                }
                if (!Dequantize.supports(t.type())) {
                    throw new ConversionException(hfDir, "tensor " + t.name() + " has dtype " + t.type()
                            + "; only F32/F16/BF16 weights can be quantized");
                }
                int rows = Math.toIntExact(t.dim(0));
                int cols = Math.toIntExact(t.dim(1));
                String base = t.name().substring(0, t.name().length() - ".weight".length());
                if (scheme == Scheme.INT4 && cols % Int4PackQuantized.DEFAULT_GROUP != 0) {
                    ignored.add(base);
                    out.add(t);
                    continue;
                }
                float[] row = new float[cols];
                long srcRow = t.type().bytesFor(cols);
                if (scheme == Scheme.FP8) {
                    MemorySegment q = arena.allocate((long) rows * cols);
                    float[] scales = new float[rows];
                    for (int r = 0; r < rows; r++) {
                        Dequantize.row(t.type(), t.data(), r * srcRow, row, 0, cols);
                        Fp8Weights.quantizeRow(row, 0, cols, q, (long) r * cols, scales, r);
                    }
                    out.add(new Tensor(t.name(), DType.F8_E4M3, new long[] {rows, cols}, q));
                    out.add(new Tensor(base + ".weight_scale", DType.F32, new long[] {rows, 1}, floats(arena, scales)));
                } else {
                    int g = Int4PackQuantized.DEFAULT_GROUP;
                    MemorySegment p = arena.allocate((long) rows * cols / 2);
                    float[] scales = new float[rows * (cols / g)];
                    for (int r = 0; r < rows; r++) {
                        Dequantize.row(t.type(), t.data(), r * srcRow, row, 0, cols);
                        Int4PackQuantized.quantizeRow(row, 0, cols, g, p, (long) r * cols / 2, scales, r * (cols / g));
                    }
                    MemorySegment shape = arena.allocate(16, 8);
                    shape.set(I64, 0, rows);
                    shape.set(I64, 8, cols);
                    out.add(new Tensor(base + ".weight_packed", DType.I32, new long[] {rows, cols / 8}, p));
                    out.add(new Tensor(base + ".weight_scale", DType.F32, new long[] {rows, cols / g}, floats(arena, scales)));
                    out.add(new Tensor(base + ".weight_shape", DType.I64, new long[] {2}, shape));
                }
            }
            cfg.set("quantization_config", quantizationConfig(scheme, ignored));
            Path tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".");
            boolean done = false;
            try {
                Files.writeString(tmp.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg) + "\n");
                SafetensorsWriter.write(tmp.resolve("model.safetensors"), Map.of("format", "pt"), out);
                for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "tokenizer.model",
                        "generation_config.json", "special_tokens_map.json"}) {
                    if (Files.isRegularFile(hfDir.resolve(f))) {
                        Files.copy(hfDir.resolve(f), tmp.resolve(f));
                    }
                }
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
                done = true;
            } finally {
                if (!done) {
                    try (Stream<Path> s = Files.walk(tmp)) {
                        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                            Files.deleteIfExists(p);
                        }
                    }
                }
            }
        }
    }

    private static MemorySegment floats(Arena arena, float[] v) {
        MemorySegment s = arena.allocate(4L * v.length, 8);
        for (int i = 0; i < v.length; i++) {
            s.set(F32, 4L * i, v[i]);
        }
        return s;
    }

    static ObjectNode quantizationConfig(Scheme scheme, List<String> ignore) {
        ObjectNode q = JSON.createObjectNode();
        q.put("quant_method", "compressed-tensors");
        q.put("format", scheme == Scheme.FP8 ? "float-quantized" : "pack-quantized");
        q.put("quantization_status", "compressed");
        ObjectNode group = q.putObject("config_groups").putObject("group_0");
        group.putArray("targets").add("Linear");
        ObjectNode w = group.putObject("weights");
        w.put("num_bits", scheme == Scheme.FP8 ? 8 : 4);
        w.put("type", scheme == Scheme.FP8 ? "float" : "int");
        w.put("symmetric", true);
        w.put("strategy", scheme == Scheme.FP8 ? "channel" : "group");
        if (scheme == Scheme.INT4) {
            w.put("group_size", Int4PackQuantized.DEFAULT_GROUP);
        }
        w.put("dynamic", false);
        group.putNull("input_activations");
        ArrayNode ig = q.putArray("ignore");
        ignore.forEach(ig::add);
        return q;
    }
}
