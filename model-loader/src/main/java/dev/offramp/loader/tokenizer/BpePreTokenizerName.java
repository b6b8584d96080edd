package dev.offramp.loader.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Picks llama.cpp's {@code tokenizer.ggml.pre} name for a {@code tokenizer.json} from its
 * {@code pre_tokenizer} (and {@code normalizer}). llama.cpp's own converter identifies the
 * pre-tokenizer by hashing the token ids of a probe text, which needs the HF tokenizers library;
 * here the split rules themselves are compared, which is equivalent for the rule sets below:
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
 * reason. The error names the rules found so the mapping can be extended. One mapping serves both
 * readers of tokenizer.json: the runtime tokenizer ({@link HfTokenizers}) and {@code offramp convert}.
 *
 * <pre>{@code
 * String pre = BpePreTokenizerName.of("tokenizer.json", root, tokenizerConfig);  // "llama-bpe"
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
        for (String r : LLAMA3) {
            if (s.equals("Split(" + r + ") + ByteLevel(false)")) {
                return "llama-bpe";
            }
        }
        for (String r : QWEN2) {
            if (s.equals("Split(" + r + ") + ByteLevel(false)")) {
                return "qwen2";
            }
        }
        if (s.equals("ByteLevel(true)")) {
            return "gpt-2";
        }
        if (s.equals("Digits(individual) + ByteLevel(true)")) {
            // same split rules; llama.cpp's two names differ only in the decode-time space clean-up
            return tokenizerConfig.path("clean_up_tokenization_spaces").asBoolean(true) ? "starcoder" : "smollm";
        }
        throw new TokenizerFormatException(src, "pre_tokenizer", "split rules [" + s + "] match no llama.cpp "
                + "pre-tokenizer known here (Llama 3 = llama-bpe, Qwen2 = qwen2, GPT-2 = gpt-2, "
                + "SmolLM/StarCoder = smollm/starcoder); use a GGUF or tokenizer.model with the same vocabulary instead");
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
