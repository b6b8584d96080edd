package dev.offramp.loader.hf;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.model.RopeStyle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An HF {@code config.json} of a Llama-family model ({@code model_type} llama, mistral or qwen2;
 * SmolLM and TinyLlama are llama) and the {@link ModelConfig} it describes. HF checkpoints keep q/k
 * rows in rotate-half order, so the config always says {@link RopeStyle#NEOX}.
 *
 * <pre>{@code
 * HfConfig hf = HfConfig.read(Path.of("my-model/config.json"));
 * ModelConfig c = hf.config();          // c.ropeStyle() == NEOX
 * Object act = hf.raw().get("hidden_act");
 * }</pre>
 *
 * @param file   where it was read from
 * @param raw    every key of the file, as plain Java values (maps, lists, strings, numbers, booleans)
 * @param config the model description
 */
public record HfConfig(Path file, Map<String, Object> raw, ModelConfig config) {

    private static final long MAX_BYTES = 16L << 20;
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    public HfConfig {
        raw = Collections.unmodifiableMap(new LinkedHashMap<>(raw));
    }

    /** Reads and interprets {@code file}. */
    public static HfConfig read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_BYTES) {
            throw new HfFormatException(file, "config of " + size + " bytes is implausibly large");
        }
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JacksonException e) {
            throw new HfFormatException(file, "malformed JSON: " + e.getOriginalMessage(), e);
        }
        return parse(file, root);
    }

    /** Interprets an already-parsed config ({@code file} is for messages only). */
    public static HfConfig parse(Path file, JsonNode root) throws HfFormatException {
        if (root == null || !root.isObject()) {
            throw new HfFormatException(file, "config is not a JSON object");
        }
        Map<String, Object> raw = JSON.convertValue(root, new TypeReference<LinkedHashMap<String, Object>>() { });
        return new HfConfig(file, raw, new Reader(file, (ObjectNode) root).modelConfig());
    }

    /** Field access with messages that name the file and the field. */
    private record Reader(Path file, ObjectNode root) {

        ModelConfig modelConfig() throws HfFormatException {
            String modelType = str("model_type", null);
            if (modelType == null) {
                throw new HfFormatException(file, "field 'model_type' is missing");
            }
            String arch;
            boolean qkvBias;
            boolean outBias;
            boolean mlpBias;
            int defaultContext;
            switch (modelType) {
                case "llama" -> {
                    arch = "llama";
                    qkvBias = bool("attention_bias", false);
                    outBias = qkvBias; // LlamaAttention gives o_proj the same bias flag as q/k/v
                    mlpBias = bool("mlp_bias", false);
                    defaultContext = 2048;
                }
                case "mistral" -> {
                    arch = "llama"; // llama.cpp converts Mistral to the llama architecture
                    qkvBias = false;
                    outBias = false;
                    mlpBias = false;
                    defaultContext = 4096 * 32;
                }
                case "qwen2" -> {
                    arch = "qwen2";
                    qkvBias = true; // Qwen2 always has q/k/v biases and none on o_proj; config.json does not say so
                    outBias = false;
                    mlpBias = false;
                    defaultContext = 32768;
                }
                default -> throw new HfFormatException(file, "model_type '" + modelType
                        + "' is not supported (llama, mistral, qwen2)");
            }
            String act = str("hidden_act", "silu");
            if (!act.equals("silu")) {
                throw new HfFormatException(file, "hidden_act '" + act + "' is not supported (SwiGLU with silu only)");
            }
            int dim = positiveInt("hidden_size", null);
            int heads = positiveInt("num_attention_heads", null);
            int kvHeads = positiveInt("num_key_value_heads", heads);
            Integer defaultHeadDim = dim % heads == 0 ? dim / heads : null;
            int headDim = positiveInt("head_dim", defaultHeadDim);
            if (heads % kvHeads != 0) {
                throw new HfFormatException(file, "num_attention_heads " + heads
                        + " is not a multiple of num_key_value_heads " + kvHeads);
            }
            int layers = positiveInt("num_hidden_layers", null);
            int ffn = positiveInt("intermediate_size", null);
            int vocab = positiveInt("vocab_size", null);
            int context = positiveInt("max_position_embeddings", defaultContext);
            float eps = positiveFloat(root, "rms_norm_eps", 1e-6);
            boolean tied = bool("tie_word_embeddings", false);

            // transformers >= 5 moves theta and scaling into "rope_parameters"; older files use
            // top-level "rope_theta" and "rope_scaling".
            JsonNode ropeParams = nonNull(root.get("rope_parameters"));
            ObjectNode thetaHolder = ropeParams instanceof ObjectNode o && o.has("rope_theta") ? o : root;
            float theta = positiveFloat(thetaHolder, "rope_theta", 10000.0);
            JsonNode scalingNode = nonNull(root.get("rope_scaling"));
            if (scalingNode == null) {
                scalingNode = ropeParams;
            }
            RopeScaling scaling = scaling(scalingNode, context);

            int ropeDim = headDim;
            JsonNode partial = nonNull(root.get("partial_rotary_factor"));
            if (partial != null) {
                if (!partial.isNumber() || !(partial.doubleValue() > 0) || partial.doubleValue() > 1) {
                    throw new HfFormatException(file, "field 'partial_rotary_factor' must be in (0, 1], got " + partial);
                }
                ropeDim = (int) (headDim * partial.doubleValue()) & ~1;
            }
            try {
                return new ModelConfig(arch, vocab, dim, layers, heads, kvHeads, headDim, ffn, context, eps, theta,
                        ropeDim, RopeStyle.NEOX, scaling, tied, qkvBias, outBias, mlpBias);
            } catch (IllegalArgumentException e) {
                throw new HfFormatException(file, e.getMessage(), e);
            }
        }

        private RopeScaling scaling(JsonNode s, int context) throws HfFormatException {
            if (s == null) {
                return RopeScaling.NONE;
            }
            if (!s.isObject()) {
                throw new HfFormatException(file, "field 'rope_scaling' must be an object or null, got " + s);
            }
            ObjectNode o = (ObjectNode) s;
            JsonNode typeNode = nonNull(o.has("rope_type") ? o.get("rope_type") : o.get("type"));
            String type = typeNode == null ? "default" : typeNode.asText();
            return switch (type) {
                case "default" -> RopeScaling.NONE;
                case "linear" -> new RopeScaling.Linear(positiveFloat(o, "factor", null));
                case "llama3" -> {
                    float factor = positiveFloat(o, "factor", null);
                    float low = positiveFloat(o, "low_freq_factor", null);
                    float high = positiveFloat(o, "high_freq_factor", null);
                    if (!(high > low)) {
                        throw new HfFormatException(file, "rope_scaling: high_freq_factor " + high
                                + " must exceed low_freq_factor " + low);
                    }
                    JsonNode orig = nonNull(o.get("original_max_position_embeddings"));
                    if (orig == null || !orig.canConvertToInt() || !orig.isIntegralNumber() || orig.intValue() <= 0) {
                        throw new HfFormatException(file,
                                "rope_scaling field 'original_max_position_embeddings' must be a positive integer, got " + orig);
                    }
                    yield new RopeScaling.Llama3(factor, low, high, orig.intValue());
                }
                default -> throw new HfFormatException(file, "rope_scaling type '" + type
                        + "' is not supported (default, linear, llama3)");
            };
        }

        private static JsonNode nonNull(JsonNode n) {
            return n == null || n.isNull() ? null : n;
        }

        private String str(String field, String dflt) throws HfFormatException {
            JsonNode n = nonNull(root.get(field));
            if (n == null) {
                return dflt;
            }
            if (!n.isTextual()) {
                throw new HfFormatException(file, "field '" + field + "' must be a string, got " + n);
            }
            return n.textValue();
        }

        private boolean bool(String field, boolean dflt) throws HfFormatException {
            JsonNode n = nonNull(root.get(field));
            if (n == null) {
                return dflt;
            }
            if (!n.isBoolean()) {
                throw new HfFormatException(file, "field '" + field + "' must be true or false, got " + n);
            }
            return n.booleanValue();
        }

        private int positiveInt(String field, Integer dflt) throws HfFormatException {
            JsonNode n = nonNull(root.get(field));
            if (n == null) {
                if (dflt == null) {
                    throw new HfFormatException(file, "field '" + field + "' is missing");
                }
                return dflt;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() <= 0) {
                throw new HfFormatException(file, "field '" + field + "' must be a positive integer, got " + n);
            }
            return n.intValue();
        }

        private float positiveFloat(ObjectNode holder, String field, Double dflt) throws HfFormatException {
            JsonNode n = nonNull(holder.get(field));
            if (n == null) {
                if (dflt == null) {
                    throw new HfFormatException(file, "field '" + field + "' is missing");
                }
                return dflt.floatValue();
            }
            if (!n.isNumber() || !(n.doubleValue() > 0) || Double.isInfinite(n.doubleValue())) {
                throw new HfFormatException(file, "field '" + field + "' must be a positive number, got " + n);
            }
            return (float) n.doubleValue();
        }
    }
}
