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

    /**
     * The {@code config.json} text describing {@code c} (for {@code convert} writing an HF folder);
     * {@code extra} keys (e.g. {@code torch_dtype}, {@code bos_token_id}) are added after the
     * model's own. The weights written next to it must be in HF order (q/k rows rotate-half).
     *
     * @throws IllegalArgumentException when {@code c} has something config.json cannot express
     *                                  (Llama with a q/k/v bias but none on o_proj, Qwen2 without q/k/v biases, ...)
     */
    public static String toJson(ModelConfig c, Map<String, Object> extra) {
        ObjectNode o = JSON.createObjectNode();
        String type = switch (c.architecture()) {
            case "llama" -> "llama";
            case "mistral" -> "mistral";
            case "qwen2" -> "qwen2";
            default -> throw new IllegalArgumentException("architecture '" + c.architecture() + "' has no HF config mapping");
        };
        boolean ok = switch (type) {
            case "llama" -> c.attentionBias() == c.attentionOutBias();
            case "mistral" -> !c.attentionBias() && !c.attentionOutBias() && !c.mlpBias();
            default -> c.attentionBias() && !c.attentionOutBias() && !c.mlpBias();
        };
        if (!ok) {
            throw new IllegalArgumentException(type + " config.json cannot express attention bias " + c.attentionBias()
                    + ", output bias " + c.attentionOutBias() + ", mlp bias " + c.mlpBias());
        }
        o.putArray("architectures").add(switch (type) {
            case "llama" -> "LlamaForCausalLM";
            case "mistral" -> "MistralForCausalLM";
            default -> "Qwen2ForCausalLM";
        });
        o.put("model_type", type);
        o.put("hidden_size", c.dim());
        o.put("intermediate_size", c.ffnDim());
        o.put("num_hidden_layers", c.layers());
        o.put("num_attention_heads", c.heads());
        o.put("num_key_value_heads", c.kvHeads());
        o.put("head_dim", c.headDim());
        o.put("vocab_size", c.vocabSize());
        o.put("max_position_embeddings", c.contextLength());
        // via Float.toString so 1e-5f is written as 1.0E-5, not its binary expansion
        o.put("rms_norm_eps", Double.parseDouble(Float.toString(c.normEps())));
        o.put("rope_theta", Double.parseDouble(Float.toString(c.ropeTheta())));
        switch (c.ropeScaling()) {
            case RopeScaling.None n -> o.putNull("rope_scaling");
            case RopeScaling.Linear l -> o.putObject("rope_scaling").put("rope_type", "linear")
                    .put("factor", Double.parseDouble(Float.toString(l.factor())));
            case RopeScaling.Llama3 l -> o.putObject("rope_scaling").put("rope_type", "llama3")
                    .put("factor", Double.parseDouble(Float.toString(l.factor())))
                    .put("low_freq_factor", Double.parseDouble(Float.toString(l.lowFreqFactor())))
                    .put("high_freq_factor", Double.parseDouble(Float.toString(l.highFreqFactor())))
                    .put("original_max_position_embeddings", l.originalContext());
        }
        if (c.ropeDim() != c.headDim()) {
            o.put("partial_rotary_factor", c.ropeDim() / (double) c.headDim());
        }
        o.put("hidden_act", "silu");
        o.put("tie_word_embeddings", c.tiedEmbeddings());
        if (type.equals("llama")) {
            o.put("attention_bias", c.attentionBias());
            o.put("mlp_bias", c.mlpBias());
        }
        if (extra != null) {
            extra.forEach((k, v) -> o.set(k, JSON.valueToTree(v)));
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
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
            JsonNode window = nonNull(root.get("sliding_window"));
            boolean windowUsed = !modelType.equals("qwen2") || bool("use_sliding_window", false);
            if (window != null && windowUsed && window.canConvertToLong() && window.longValue() < context) {
                // Mistral v0.1 attends to a 4096-token window; this runtime attends to the whole context.
                System.getLogger(HfConfig.class.getName()).log(System.Logger.Level.WARNING, file
                        + ": sliding_window " + window + " is not implemented; attention beyond it differs from the reference");
            }
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
