package dev.offramp.loader.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.tokenizer.PreTokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The mapping, both ways, between a {@code tokenizer.json}'s split rules ({@code pre_tokenizer}, and
 * {@code normalizer}) and llama.cpp's {@code tokenizer.ggml.pre} name. llama.cpp's own converter
 * identifies the pre-tokenizer by hashing the token ids of a probe text, which needs the HF
 * tokenizers library; here the split rules themselves are compared, which is equivalent for the
 * rule sets below:
 *
 * <table>
 *   <caption>pre_tokenizer rules to tokenizer.ggml.pre</caption>
 *   <tr><th>pre_tokenizer (in order)</th><th>name</th><th>models</th></tr>
 *   <tr><td>Split(Llama 3 regex, Isolated), ByteLevel(use_regex=false)</td><td>llama-bpe</td>
 *       <td>Llama 3.x</td></tr>
 *   <tr><td>Split(Qwen2 regex, Isolated), ByteLevel(use_regex=false)</td><td>qwen2</td>
 *       <td>Qwen1.5/2/2.5/3</td></tr>
 *   <tr><td>ByteLevel(use_regex=true)</td><td>gpt-2</td><td>GPT-2</td></tr>
 *   <tr><td>Digits(individual), ByteLevel(use_regex=true)</td><td>smollm, or starcoder when
 *       tokenizer_config.json's clean_up_tokenization_spaces is not false</td><td>SmolLM, StarCoder2</td></tr>
 * </table>
 *
 * <p>Anything else is refused rather than written as "default": llama.cpp's "default" is not a
 * neutral choice but its own split rules (punctuation runs, 3-digit groups), so a file labelled
 * with it would load without complaint and tokenize differently from the HF tokenizer, which is
 * the silent kind of wrong. llama.cpp's converter refuses unrecognised pre-tokenizers for the same
 * reason. The error names the rules found so the mapping can be extended. One table ({@link Known})
 * serves all three users: the runtime tokenizer.json reader ({@link HfTokenizers}), {@code offramp
 * convert} HF to GGUF ({@link #of}) and GGUF to HF ({@link #rulesFor}); the rules written for a name
 * are read back as that name by construction.
 *
 * <pre>{@code
 * String pre = BpePreTokenizerName.of("tokenizer.json", root, tokenizerConfig);  // "llama-bpe"
 * BpePreTokenizerName.Rules r = BpePreTokenizerName.rulesFor("model.gguf", "llama-bpe");
 * }</pre>
 */
public final class BpePreTokenizerName {

    /** Llama 3's split regex as tokenizer.json spells it, and as llama.cpp spells it (no inline flag). */
    private static final List<String> LLAMA3 = List.of(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    /** Qwen2's: Llama 3's with single digits instead of up to three. */
    private static final List<String> QWEN2 = List.of(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    /**
     * What a GGUF pre-tokenizer name becomes in a tokenizer.json folder.
     *
     * @param name                      the canonical name the rules are read back as (an alias such as
     *                                  {@code llama3} becomes {@code llama-bpe}: the same rules in llama.cpp)
     * @param preTokenizer              tokenizer.json's {@code pre_tokenizer}
     * @param cleanUpTokenizationSpaces tokenizer_config.json's flag (llama.cpp's clean_spaces for the name;
     *                                  it also tells smollm from starcoder)
     * @param ignoreMerges              tokenizer.json's {@code model.ignore_merges} (Llama 3: a word that is
     *                                  a whole token is not merged)
     */
    public record Rules(String name, ObjectNode preTokenizer, boolean cleanUpTokenizationSpaces, boolean ignoreMerges) {
    }

    /**
     * The supported rule sets. {@code cleanUp} null: the flag does not take part in recognising the
     * rules; otherwise the name needs that tokenizer_config.json flag (absent counts as true, HF's default).
     */
    private enum Known {
        LLAMA_BPE("llama-bpe", PreTokenizer.LLAMA3, null, splitThenBytes(LLAMA3.get(0)), splitThenBytes(LLAMA3.get(1))),
        QWEN2_("qwen2", PreTokenizer.QWEN2, null, splitThenBytes(QWEN2.get(0)), splitThenBytes(QWEN2.get(1))),
        GPT_2("gpt-2", PreTokenizer.GPT2, null, byteLevel(true)),
        STARCODER("starcoder", PreTokenizer.STARCODER, true, digitsThenBytes()),
        SMOLLM("smollm", PreTokenizer.STARCODER_NO_CLEAN, false, digitsThenBytes());

        final String name;
        /** The runtime's rules for the name: every alias of it in llama.cpp is written as {@link #name}. */
        final PreTokenizer type;
        final Boolean cleanUp;
        /** The first form is the one written. */
        final List<ObjectNode> forms;
        /** The forms as {@link #collect} describes them, which is what {@link #of} compares. */
        final List<String> described;

        Known(String name, PreTokenizer type, Boolean cleanUp, ObjectNode... forms) {
            this.name = name;
            this.type = type;
            this.cleanUp = cleanUp;
            this.forms = List.of(forms);
            List<String> d = new ArrayList<>();
            for (ObjectNode f : forms) {
                List<String> steps = new ArrayList<>();
                collect("(table)", f, steps);
                d.add(String.join(" + ", steps));
            }
            this.described = List.copyOf(d);
        }
    }

    private BpePreTokenizerName() {
    }

    /**
     * @param src             tokenizer.json's path, for messages
     * @param root            its parsed content
     * @param tokenizerConfig tokenizer_config.json's content, or a missing node
     * @throws TokenizerFormatException naming the field ({@code normalizer} or {@code pre_tokenizer}) when
     *                                  the rules match none of the supported sets
     */
    public static String of(String src, JsonNode root, JsonNode tokenizerConfig) {
        JsonNode norm = root.path("normalizer");
        // NFC (Qwen2) changes nothing for the texts llama.cpp is tested on and llama.cpp ignores it too;
        // other normalizers (lower-casing, replacements) would change tokenization without a GGUF key for it.
        if (!norm.isMissingNode() && !norm.isNull() && !norm.path("type").asText("").equals("NFC")) {
            throw new TokenizerFormatException(src, "normalizer", "a " + norm.path("type").asText("?")
                    + " normalizer cannot be expressed in GGUF byte-level BPE metadata (supported: none, NFC)");
        }
        List<String> steps = new ArrayList<>();
        collect(src, root.path("pre_tokenizer"), steps);
        String s = String.join(" + ", steps);
        boolean cleanUp = tokenizerConfig.path("clean_up_tokenization_spaces").asBoolean(true);
        for (Known k : Known.values()) {
            // starcoder and smollm have the same split rules; llama.cpp's two names differ only in the
            // decode-time space clean-up
            if (k.described.contains(s) && (k.cleanUp == null || k.cleanUp == cleanUp)) {
                return k.name;
            }
        }
        throw new TokenizerFormatException(src, "pre_tokenizer", "split rules [" + s + "] match no llama.cpp "
                + "pre-tokenizer known here (Llama 3 = llama-bpe, Qwen2 = qwen2, GPT-2 = gpt-2, "
                + "SmolLM/StarCoder = smollm/starcoder); use a GGUF or tokenizer.model with the same vocabulary instead");
    }

    /**
     * The inverse of {@link #of}: the tokenizer.json rules for a GGUF {@code tokenizer.ggml.pre} value.
     * llama.cpp's aliases of a supported name (e.g. {@code llama3}, {@code phi-2}) are accepted and
     * written as the canonical name's rules, which the runtime and llama.cpp treat identically.
     *
     * @param src     the GGUF, for messages
     * @param preName the value; null when the key is absent
     * @throws TokenizerFormatException naming {@code tokenizer.ggml.pre} when the name is absent or its
     *                                  rules have no tokenizer.json form here
     */
    public static Rules rulesFor(String src, String preName) {
        if (preName == null || preName.isEmpty() || preName.equals("default")) {
            // llama.cpp's "default" is its own rule list (punctuation runs, 3-digit groups), not GPT-2's
            throw new TokenizerFormatException(src, "tokenizer.ggml.pre", (preName == null ? "missing" : "'" + preName + "'")
                    + ": llama.cpp's default pre-tokenizer has no tokenizer.json equivalent here; " + supported());
        }
        Optional<PreTokenizer> type = PreTokenizer.forName(preName);
        for (Known k : Known.values()) {
            if (type.isPresent() && type.get() == k.type) {
                return new Rules(k.name, k.forms.getFirst().deepCopy(),
                        k.cleanUp != null ? k.cleanUp : k.type.cleanSpaces(), k.type.ignoreMerges());
            }
        }
        throw new TokenizerFormatException(src, "tokenizer.ggml.pre", "'" + preName + "' "
                + (type.isPresent() ? "(llama.cpp rules " + type.get() + ") " : "(unknown to this runtime) ")
                + "cannot be written as tokenizer.json split rules; " + supported());
    }

    private static String supported() {
        StringBuilder b = new StringBuilder("supported: ");
        for (Known k : Known.values()) {
            b.append(k.ordinal() == 0 ? "" : ", ").append(k.name);
        }
        return b.append(" and their llama.cpp aliases").toString();
    }

    private static ObjectNode byteLevel(boolean useRegex) {
        // add_prefix_space stays false: llama.cpp's gpt2 tokenizers never prefix a space
        return JsonNodeFactory.instance.objectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", useRegex);
    }

    private static ObjectNode splitThenBytes(String regex) {
        ObjectNode seq = JsonNodeFactory.instance.objectNode().put("type", "Sequence");
        ArrayNode steps = seq.putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", regex);
        split.put("behavior", "Isolated").put("invert", false);
        steps.add(byteLevel(false));
        return seq;
    }

    private static ObjectNode digitsThenBytes() {
        ObjectNode seq = JsonNodeFactory.instance.objectNode().put("type", "Sequence");
        ArrayNode steps = seq.putArray("pretokenizers");
        steps.addObject().put("type", "Digits").put("individual_digits", true);
        steps.add(byteLevel(true));
        return seq;
    }

    private static void collect(String src, JsonNode n, List<String> steps) {
        if (n.isMissingNode() || n.isNull()) {
            return;
        }
        String type = n.path("type").asText("");
        switch (type) {
            case "Sequence" -> {
                for (JsonNode c : n.path("pretokenizers")) {
                    collect(src, c, steps);
                }
            }
            case "Split" -> {
                JsonNode p = n.path("pattern");
                String behavior = n.path("behavior").asText("");
                if (!p.has("Regex") || !behavior.equals("Isolated") || n.path("invert").asBoolean(false)) {
                    steps.add("Split(" + p + ", " + behavior + (n.path("invert").asBoolean(false) ? ", inverted" : "") + ")");
                } else {
                    steps.add("Split(" + p.get("Regex").asText() + ")");
                }
            }
            case "ByteLevel" -> {
                if (n.path("add_prefix_space").asBoolean(false)) {
                    // llama.cpp's gpt2 tokenizers never prefix a space: the result would differ silently
                    throw new TokenizerFormatException(src, "pre_tokenizer", "ByteLevel with add_prefix_space=true "
                            + "cannot be expressed in GGUF byte-level BPE metadata");
                }
                steps.add("ByteLevel(" + n.path("use_regex").asBoolean(true) + ")");
            }
            case "Digits" -> steps.add(n.path("individual_digits").asBoolean(false) ? "Digits(individual)" : "Digits(runs)");
            default -> steps.add(type.isEmpty() ? n.toString() : type);
        }
    }
}
