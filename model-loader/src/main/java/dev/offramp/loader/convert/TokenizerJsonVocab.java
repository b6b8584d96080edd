package dev.offramp.loader.convert;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.offramp.core.tokenizer.TokenType;
import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.tokenizer.BpePreTokenizerName;
import dev.offramp.loader.tokenizer.TokenizerFormatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} with a byte-level BPE model (GPT-2, Llama 3, Qwen2, SmolLM)
 * turned into llama.cpp's GGUF vocabulary metadata ({@code tokenizer.ggml.model = gpt2}), with the
 * values llama.cpp's {@code convert_hf_to_gguf.py} writes for the same folder:
 *
 * <ul>
 *   <li>tokens in id order; {@code model.vocab} entries are NORMAL, {@code added_tokens} CONTROL when
 *       {@code special} is set or the text looks like a control token ({@code <|...|>}, {@code <pad>},
 *       ...; llama.cpp's rule for models that forget the flag), USER_DEFINED otherwise;</li>
 *   <li>when {@code config.json}'s {@code vocab_size} (the embedding rows) exceeds the token count, the
 *       tail is filled with {@code [PAD<i>]} tokens of type UNUSED (llama.cpp's converter uses UNUSED
 *       for these in its common byte-level BPE path);</li>
 *   <li>merges as "left right" strings; the {@code [left, right]} pair form (transformers 4.45+) is
 *       joined the same way, a space inside a part becoming U+0120 as llama.cpp encodes it;</li>
 *   <li>{@code tokenizer.ggml.pre} from the split rules ({@link BpePreTokenizerName});</li>
 *   <li>BOS/EOS/UNK/PAD: the token text named in {@code tokenizer_config.json} (else
 *       {@code special_tokens_map.json}) looked up among the added tokens, then the vocabulary; else
 *       {@code config.json}'s {@code <kind>_token_id} when it is a single number;</li>
 *   <li>add_bos/add_eos: {@code tokenizer_config.json}'s flags, else read off a
 *       {@code TemplateProcessing} post-processor (Llama 3 declares its BOS only there);</li>
 *   <li>{@code chat_template} from {@code tokenizer_config.json}, else {@code chat_template.jinja} or
 *       {@code chat_template.json}; named templates go to {@code tokenizer.chat_template.<name>}.</li>
 * </ul>
 *
 * <p>Stricter than llama.cpp where its leniency would hide a broken file: ids must be dense
 * (0..n-1 with no gap or duplicate; only the tail up to the embedding rows is padded), merges must
 * be present and name tokens of the vocabulary.
 *
 * <pre>{@code
 * Map<String, GgufValue> md = TokenizerJsonVocab.read(Path.of("Llama-3.2-1B"));   // folder with tokenizer.json
 * }</pre>
 */
public final class TokenizerJsonVocab {

    private static final System.Logger LOG = System.getLogger(TokenizerJsonVocab.class.getName());
    /** Duplicate keys in {@code model.vocab} would otherwise silently keep the last id. */
    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    /** Llama 3's tokenizer.json is 9 MB, the largest vocabularies' about 35 MB. */
    private static final long MAX_JSON_BYTES = 256L << 20;
    private static final String[] SPECIAL_KINDS = {"bos", "eos", "unk", "pad"};
    private static final Map<String, String> ID_KEYS = Map.of("bos", "tokenizer.ggml.bos_token_id",
            "eos", "tokenizer.ggml.eos_token_id", "unk", "tokenizer.ggml.unknown_token_id",
            "pad", "tokenizer.ggml.padding_token_id");

    private TokenizerJsonVocab() {
    }

    /**
     * Reads {@code hfDir/tokenizer.json} and the files beside it; pads to {@code config.json}'s
     * {@code vocab_size} when that file is there.
     *
     * @throws ConversionException naming the file and field for anything that cannot be converted
     */
    public static Map<String, GgufValue> read(Path hfDir) throws IOException {
        return read(hfDir.resolve("tokenizer.json"), hfDir, hfDir, embeddingRows(hfDir));
    }

    /**
     * A {@code tokenizer.json} kept apart from the model ({@code offramp convert --tokenizer}): the
     * files beside it ({@code tokenizer_config.json}, {@code special_tokens_map.json}, chat templates)
     * name the special tokens and templates, while {@code modelDir}'s {@code config.json} gives the
     * embedding rows to pad to and fallback special ids, as in {@link #read(Path)}.
     */
    public static Map<String, GgufValue> readFile(Path tokenizerJson, Path modelDir) throws IOException {
        Path side = tokenizerJson.toAbsolutePath().getParent();
        return read(tokenizerJson, side, modelDir, embeddingRows(modelDir));
    }

    /**
     * As {@link #read(Path)} with the embedding row count given: the token list is padded up to
     * {@code embeddingRows} (0 = no padding) and may not exceed it.
     */
    public static Map<String, GgufValue> read(Path hfDir, int embeddingRows) throws IOException {
        return read(hfDir.resolve("tokenizer.json"), hfDir, hfDir, embeddingRows);
    }

    /** config.json's vocab_size (or text_config's), 0 when absent. */
    private static int embeddingRows(Path modelDir) throws IOException {
        JsonNode config = optionalJson(modelDir.resolve("config.json"));
        JsonNode rows = config.path("vocab_size");
        if (rows.isMissingNode()) {
            rows = config.path("text_config").path("vocab_size");
        }
        if (!rows.isMissingNode() && !(rows.canConvertToInt() && rows.isIntegralNumber() && rows.intValue() > 0)) {
            throw new ConversionException(modelDir.resolve("config.json"), "field 'vocab_size': " + rows
                    + " is not a positive integer");
        }
        return rows.isMissingNode() ? 0 : rows.intValue();
    }

    /**
     * @param file      the tokenizer.json
     * @param sideDir   where tokenizer_config.json, special_tokens_map.json and chat templates are looked for
     * @param modelDir  where config.json is looked for
     */
    private static Map<String, GgufValue> read(Path file, Path sideDir, Path modelDir, int embeddingRows)
            throws IOException {
        JsonNode root = json(file);
        if (root == null || !root.isObject()) {
            throw new ConversionException(file, "not a JSON object");
        }
        JsonNode model = root.path("model");
        if (!model.isObject()) {
            throw new ConversionException(file, "field 'model': missing or not an object");
        }
        String type = model.path("type").asText("BPE"); // older files leave the BPE type implicit
        if (!type.equals("BPE")) {
            throw new ConversionException(file, "field 'model.type': '" + type + "' cannot be converted; only "
                    + "byte-level BPE tokenizer.json files can (SentencePiece models: use the tokenizer.model)");
        }
        if (model.path("byte_fallback").asBoolean(false)) {
            throw new ConversionException(file, "field 'model.byte_fallback': a SentencePiece-style BPE "
                    + "(byte fallback) is not byte-level BPE; convert from the tokenizer.model beside it instead");
        }
        Path configFile = sideDir.resolve("tokenizer_config.json");
        JsonNode tokConfig = optionalJson(configFile);
        String pre;
        try {
            pre = BpePreTokenizerName.of(file.toString(), root, tokConfig);
        } catch (TokenizerFormatException e) {
            throw new ConversionException(file, "field '" + e.field() + "': " + e.problem());
        }

        Map<Integer, String> byId = new HashMap<>();
        Map<String, Integer> byText = new HashMap<>();
        JsonNode vocab = model.path("vocab");
        if (!vocab.isObject() || vocab.isEmpty()) {
            throw new ConversionException(file, "field 'model.vocab': missing, empty or not an object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = id(file, "model.vocab[\"" + e.getKey() + "\"]", e.getValue());
            String had = byId.putIfAbsent(id, e.getKey());
            if (had != null) {
                throw new ConversionException(file, "field 'model.vocab': id " + id + " is given to both '"
                        + had + "' and '" + e.getKey() + "'");
            }
            byText.put(e.getKey(), id);
        }
        Map<Integer, TokenType> addedType = new HashMap<>();
        JsonNode added = root.path("added_tokens");
        for (int i = 0; i < added.size(); i++) {
            JsonNode t = added.get(i);
            String field = "added_tokens[" + i + "]";
            int id = id(file, field + ".id", t.path("id"));
            JsonNode c = t.path("content");
            if (!c.isTextual()) {
                throw new ConversionException(file, "field '" + field + ".content': missing or not a string");
            }
            String content = c.asText();
            String had = byId.putIfAbsent(id, content);
            if (had != null && !had.equals(content)) {
                throw new ConversionException(file, "field '" + field + "': id " + id + " is '" + content
                        + "' but already belongs to '" + had + "'");
            }
            Integer other = byText.putIfAbsent(content, id);
            if (other != null && other != id) {
                throw new ConversionException(file, "field '" + field + "': token '" + content + "' has id " + id
                        + " and also id " + other);
            }
            addedType.put(id, t.path("special").asBoolean(false) || looksSpecial(content)
                    ? TokenType.CONTROL : TokenType.USER_DEFINED);
        }
        int n = byId.size();
        for (int id : byId.keySet()) {
            if (id >= n) { // n distinct ids all below n are exactly 0..n-1
                int gap = 0;
                while (byId.containsKey(gap)) {
                    gap++;
                }
                throw new ConversionException(file, "fields 'model.vocab'/'added_tokens': ids are not dense: "
                        + n + " tokens but id " + id + " is used and id " + gap + " is not");
            }
        }
        if (embeddingRows > 0 && n > embeddingRows) {
            throw new ConversionException(file, "the " + n + " tokens are more than the model's " + embeddingRows
                    + " embedding rows (config.json vocab_size)");
        }
        int total = Math.max(n, embeddingRows);
        String[] tokens = new String[total];
        int[] types = new int[total];
        for (int id = 0; id < total; id++) {
            if (id < n) {
                tokens[id] = byId.get(id);
                types[id] = addedType.getOrDefault(id, TokenType.NORMAL).code();
            } else {
                tokens[id] = "[PAD" + id + "]";
                types[id] = TokenType.UNUSED.code();
            }
        }
        String[] merges = merges(file, model.path("merges"), byText);

        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        md.put("tokenizer.ggml.pre", GgufValue.string(pre));
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings(tokens)));
        md.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(types)));
        md.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings(merges)));
        JsonNode specialsMap = optionalJson(sideDir.resolve("special_tokens_map.json"));
        JsonNode config = optionalJson(modelDir.resolve("config.json"));
        Map<String, String> texts = new HashMap<>();
        for (String kind : SPECIAL_KINDS) {
            String text = tokenText(tokConfig.get(kind + "_token"));
            if (text == null) {
                text = tokenText(specialsMap.get(kind + "_token"));
            }
            Integer id = null;
            if (text != null) {
                texts.put(kind, text);
                id = byText.get(text);
                if (id == null) {
                    LOG.log(System.Logger.Level.WARNING, "{0}: {1}_token ''{2}'' is not a token of {3}; ignored",
                            configFile, kind, text, file);
                }
            }
            if (id == null) {
                JsonNode c = config.path(kind + "_token_id");
                if (c.isMissingNode()) {
                    c = config.path("text_config").path(kind + "_token_id");
                }
                // a list (Llama 3.1 instruct's several EOS ids) is not one id: llama.cpp skips it too
                if (c.isIntegralNumber() && c.canConvertToInt() && c.intValue() >= 0 && c.intValue() < total) {
                    id = c.intValue();
                }
            }
            if (id != null) {
                md.put(ID_KEYS.get(kind), GgufValue.uint32(id));
            }
        }
        Boolean addBos = flag(tokConfig, "add_bos_token");
        Boolean addEos = flag(tokConfig, "add_eos_token");
        if (addBos == null || addEos == null) {
            Boolean[] fromTemplate = templateFlags(root.path("post_processor"), texts.get("bos"), texts.get("eos"));
            addBos = addBos != null ? addBos : fromTemplate[0];
            addEos = addEos != null ? addEos : fromTemplate[1];
        }
        if (addBos != null) {
            md.put("tokenizer.ggml.add_bos_token", GgufValue.bool(addBos));
        }
        if (addEos != null) {
            md.put("tokenizer.ggml.add_eos_token", GgufValue.bool(addEos));
        }
        chatTemplates(sideDir, configFile, tokConfig, md);
        return md;
    }

    /** llama.cpp's rule for added tokens that models mark as not special although they are control tokens. */
    static boolean looksSpecial(String t) {
        return t.equals("<pad>") || t.equals("<mask>") || t.equals("<2mass>") || t.equals("[@BOS@]")
                || (t.startsWith("<|") && t.endsWith("|>") && t.length() >= 4)
                || (t.startsWith("<\uFF5C") && t.endsWith("\uFF5C>") && t.length() >= 4)
                || (t.startsWith("<unused") && t.endsWith(">"));
    }

    private static String[] merges(Path file, JsonNode node, Map<String, Integer> byText) throws ConversionException {
        if (!node.isArray() || node.isEmpty()) {
            throw new ConversionException(file, "field 'model.merges': missing or empty (a byte-level BPE "
                    + "vocabulary cannot tokenize without its merges)");
        }
        String[] out = new String[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode m = node.get(i);
            String left;
            String right;
            if (m.isTextual()) {
                String s = m.asText();
                int sp = s.indexOf(' ');
                if (sp <= 0 || sp == s.length() - 1 || s.indexOf(' ', sp + 1) >= 0) {
                    throw new ConversionException(file, "field 'model.merges[" + i + "]': '" + s
                            + "' is not two tokens separated by one space");
                }
                left = s.substring(0, sp);
                right = s.substring(sp + 1);
                out[i] = s;
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
                // GGUF merges are space-separated strings: llama.cpp's converter re-encodes spaces inside
                // a part as U+0120, the byte-level alphabet's symbol for a space
                out[i] = left.replace(' ', '\u0120') + " " + right.replace(' ', '\u0120');
            } else {
                throw new ConversionException(file, "field 'model.merges[" + i + "]': " + m
                        + " is neither \"left right\" nor [\"left\", \"right\"]");
            }
            if (!byText.containsKey(left) || !byText.containsKey(right)) {
                throw new ConversionException(file, "field 'model.merges[" + i + "]': merges '"
                        + (byText.containsKey(left) ? right : left) + "', which is not a token of model.vocab");
            }
        }
        return out;
    }

    private static int id(Path file, String field, JsonNode v) throws ConversionException {
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
            throw new ConversionException(file, "field '" + field + "': id " + v + " is not a non-negative integer");
        }
        return v.intValue();
    }

    private static String tokenText(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isTextual()) {
            return n.asText();
        }
        JsonNode c = n.path("content"); // AddedToken form: {"content": "<s>", "lstrip": false, ...}
        return c.isTextual() ? c.asText() : null;
    }

    private static Boolean flag(JsonNode cfg, String key) {
        JsonNode v = cfg.path(key);
        return v.isBoolean() ? v.asBoolean() : null;
    }

    /**
     * {add_bos, add_eos} as a {@code TemplateProcessing} post-processor implies them: a leading
     * (trailing) special token in the single-sequence template that is the BOS (EOS) token. Like
     * llama.cpp's crude reading, only simple templates are understood; null where it says nothing.
     */
    private static Boolean[] templateFlags(JsonNode pp, String bos, String eos) {
        Boolean[] r = {null, null};
        List<JsonNode> procs = new ArrayList<>();
        if (pp.path("type").asText("").equals("Sequence")) {
            pp.path("processors").forEach(procs::add);
        } else if (!pp.isMissingNode() && !pp.isNull()) {
            procs.add(pp);
        }
        for (JsonNode p : procs) {
            if (!p.path("type").asText("").equals("TemplateProcessing")) {
                continue;
            }
            JsonNode single = p.path("single");
            if (single.size() > 1) {
                String first = single.get(0).path("SpecialToken").path("id").asText(null);
                if (first != null) {
                    r[0] = first.equals(bos);
                }
                String last = single.get(single.size() - 1).path("SpecialToken").path("id").asText(null);
                if (last != null) {
                    r[1] = last.equals(eos);
                }
            }
        }
        return r;
    }

    private static void chatTemplates(Path hfDir, Path configFile, JsonNode tokConfig, Map<String, GgufValue> md)
            throws IOException {
        JsonNode t = tokConfig.path("chat_template");
        if (t.isMissingNode() || t.isNull()) {
            Path jinja = hfDir.resolve("chat_template.jinja");
            if (Files.isRegularFile(jinja)) {
                md.put("tokenizer.chat_template", GgufValue.string(Files.readString(jinja, StandardCharsets.UTF_8)));
                return;
            }
            configFile = hfDir.resolve("chat_template.json");
            t = optionalJson(configFile).path("chat_template");
        }
        if (t.isTextual()) {
            md.put("tokenizer.chat_template", GgufValue.string(t.asText()));
        } else if (t.isArray()) {
            for (JsonNode e : t) { // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
                String name = e.path("name").asText(null);
                JsonNode tmpl = e.path("template");
                if (name == null || !tmpl.isTextual()) {
                    throw new ConversionException(configFile, "field 'chat_template': entry " + e
                            + " has no name or template");
                }
                md.put(name.equals("default") ? "tokenizer.chat_template" : "tokenizer.chat_template." + name,
                        GgufValue.string(tmpl.asText()));
            }
        } else if (!t.isMissingNode() && !t.isNull()) {
            throw new ConversionException(configFile, "field 'chat_template': neither a string nor a list of named templates");
        }
    }

    private static JsonNode optionalJson(Path file) throws IOException {
        return Files.isRegularFile(file) ? json(file) : MissingNode.getInstance();
    }

    private static JsonNode json(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_JSON_BYTES) {
            // a JSON tree takes several times its text in heap: refuse before reading
            throw new ConversionException(file, size + " bytes is implausibly large for a tokenizer file (limit "
                    + MAX_JSON_BYTES + ")");
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new ConversionException(file, "malformed JSON: " + e.getOriginalMessage());
        }
    }
}
