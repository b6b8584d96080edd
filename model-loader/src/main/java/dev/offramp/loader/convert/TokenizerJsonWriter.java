package dev.offramp.loader.convert;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.tokenizer.TokenType;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufMetadata;
import dev.offramp.loader.gguf.GgufMetadataException;
import dev.offramp.loader.tokenizer.BpePreTokenizerName;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import dev.offramp.loader.tokenizer.TokenizerFormatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The inverse of {@link TokenizerJsonVocab}: a GGUF byte-level BPE vocabulary
 * ({@code tokenizer.ggml.model = gpt2}) as a Hugging Face {@code tokenizer.json} plus
 * {@code tokenizer_config.json}, laid out as HF writes Llama 3's:
 *
 * <ul>
 *   <li>{@code model}: BPE, {@code byte_fallback} false, NORMAL (and BYTE/UNDEFINED) tokens in
 *       {@code vocab} in id order, merges as "left right" strings (GGUF merges are already in that
 *       form; a byte-level token never holds a raw space), {@code ignore_merges} as llama.cpp sets it
 *       for the pre-tokenizer;</li>
 *   <li>CONTROL tokens become {@code added_tokens} with {@code special} true, USER_DEFINED ones with
 *       {@code special} false (UNKNOWN ones as special: llama.cpp matches them like control tokens);</li>
 *   <li>{@code pre_tokenizer} from {@code tokenizer.ggml.pre} ({@link BpePreTokenizerName#rulesFor}, the
 *       same table that reads it back); no normalizer, as llama.cpp applies none;</li>
 *   <li>ByteLevel decoder; a {@code TemplateProcessing} post-processor that adds BOS (EOS) when the
 *       vocabulary adds them (the GGUF flags, else llama.cpp's default for the pre-tokenizer);</li>
 *   <li>{@code tokenizer_config.json}: bos/eos/unk/pad token texts, add_bos_token/add_eos_token,
 *       clean_up_tokenization_spaces (llama.cpp's clean_spaces for the name; it also tells smollm from
 *       starcoder on the way back) and the chat template(s).</li>
 * </ul>
 *
 * <p>Trailing {@code [PAD<id>]} tokens of type UNUSED are not written: they are the filler that
 * converters (ours and llama.cpp's) add when the embedding has more rows than the tokenizer has
 * tokens. HF keeps that difference as {@code config.json}'s {@code vocab_size} (the rows, which the
 * converted folder keeps) being larger than the tokenizer, and {@link TokenizerJsonVocab} pads back
 * to exactly those tokens, so a round trip keeps the arrays equal; as added tokens they would be junk
 * that HF matches in text. An UNUSED token elsewhere stays in {@code model.vocab} (unreachable by
 * merges, as in llama.cpp), because dropping it would leave a hole in the ids; HF then decodes it as
 * its text where llama.cpp renders nothing, and reading the folder back makes it NORMAL. Types that
 * have no tokenizer.json form (undefined, byte, unknown codes) are refused.
 *
 * <pre>{@code
 * TokenizerJsonWriter.write(gguf.metadata(), Path.of("model-hf"));   // tokenizer.json + tokenizer_config.json
 * }</pre>
 */
public final class TokenizerJsonWriter {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String CHAT_TEMPLATE = "tokenizer.chat_template";

    /** The two files' text. */
    public record Output(String tokenizerJson, String tokenizerConfigJson) {
    }

    private TokenizerJsonWriter() {
    }

    /** True when {@code md} holds a byte-level BPE vocabulary (whether it converts is for {@link #toJson} to say). */
    public static boolean canWrite(GgufMetadata md) {
        return "gpt2".equals(md.getString("tokenizer.ggml.model", null));
    }

    /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir}. */
    public static void write(GgufMetadata md, Path dir) throws IOException {
        Output f = toJson(md);
        Files.writeString(dir.resolve("tokenizer.json"), f.tokenizerJson(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("tokenizer_config.json"), f.tokenizerConfigJson(), StandardCharsets.UTF_8);
    }

    /**
     * @throws ConversionException naming the GGUF and the {@code tokenizer.*} field that cannot be expressed
     */
    public static Output toJson(GgufMetadata md) throws ConversionException {
        try {
            return build(md);
        } catch (GgufMetadataException e) {
            // a key of the wrong type: the same one-line "file: field" report as every other refusal
            String m = e.getMessage();
            int at = m.indexOf("': ");
            throw new ConversionException(Path.of(md.file()), "field '" + e.key() + "': "
                    + (at >= 0 ? m.substring(at + 3) : m));
        }
    }

    private static Output build(GgufMetadata md) throws ConversionException {
        Path file = Path.of(md.file());
        if (!canWrite(md)) {
            throw new ConversionException(file, "field 'tokenizer.ggml.model': '" + md.getString("tokenizer.ggml.model", null)
                    + "' is not a byte-level BPE (gpt2) vocabulary");
        }
        String[] tokens = strings(md, file, "tokenizer.ggml.tokens");
        String[] merges = strings(md, file, "tokenizer.ggml.merges");
        int[] types = md.contains("tokenizer.ggml.token_type") ? md.getIntArray("tokenizer.ggml.token_type") : null;
        if (types != null && types.length != tokens.length) {
            throw new ConversionException(file, "field 'tokenizer.ggml.token_type': " + types.length + " types for "
                    + tokens.length + " tokens");
        }
        for (int i = 0; types != null && i < types.length; i++) {
            TokenType t = TokenType.fromCode(types[i]);
            if (t == TokenType.UNDEFINED || t == TokenType.BYTE || t.code() != types[i]) {
                // byte-level BPE has no byte tokens, and tokenizer.json has no way to say "undefined"
                throw new ConversionException(file, "field 'tokenizer.ggml.token_type[" + i + "]': type " + types[i]
                        + " of '" + tokens[i] + "' has no tokenizer.json form in a byte-level BPE vocabulary "
                        + "(normal 1, unknown 2, control 3, user-defined 4, unused 5)");
            }
        }
        int n = tokens.length;
        while (n > 0 && type(types, n - 1) == TokenType.UNUSED && tokens[n - 1].equals("[PAD" + (n - 1) + "]")) {
            n--;
        }
        Map<String, Integer> byText = new HashMap<>(2 * n);
        for (int i = 0; i < n; i++) {
            Integer had = byText.putIfAbsent(tokens[i], i);
            if (had != null) {
                // tokenizer.json maps text to id: a second id for the same text cannot be written
                throw new ConversionException(file, "field 'tokenizer.ggml.tokens': ids " + had + " and " + i
                        + " are both '" + tokens[i] + "'");
            }
        }
        BpePreTokenizerName.Rules rules;
        Tokenizer tok;
        try {
            rules = BpePreTokenizerName.rulesFor(md.file(), md.getString("tokenizer.ggml.pre", null));
            // the runtime's reading of the same metadata gives the effective add_bos/add_eos (llama.cpp's
            // defaults where the file is silent) and validates the vocabulary
            tok = GgufTokenizers.fromMetadata(md.entries(), md.file());
        } catch (TokenizerFormatException e) {
            throw new ConversionException(file, "field '" + e.field() + "': " + e.problem());
        }

        // HF's BPE refuses to load a merge whose parts or result are not in model.vocab; an added token
        // that merges use is therefore written in both places, as GPT-2's own tokenizer.json does
        boolean[] inVocab = new boolean[n];
        for (int i = 0; i < n; i++) {
            TokenType t = type(types, i);
            inVocab[i] = !(t == TokenType.CONTROL || t == TokenType.USER_DEFINED || t == TokenType.UNKNOWN);
        }
        for (int i = 0; i < merges.length; i++) {
            String m = merges[i];
            int sp = m.indexOf(' ');
            if (sp <= 0 || sp == m.length() - 1 || m.indexOf(' ', sp + 1) >= 0) {
                throw new ConversionException(file, "field 'tokenizer.ggml.merges[" + i + "]': '" + m
                        + "' is not two tokens separated by one space");
            }
            String left = m.substring(0, sp);
            String right = m.substring(sp + 1);
            for (String part : new String[] {left, right, left + right}) {
                Integer id = byText.get(part);
                if (id == null) {
                    throw new ConversionException(file, "field 'tokenizer.ggml.merges[" + i + "]': '" + m + "' "
                            + (part.length() == m.length() - 1 ? "makes" : "merges") + " '" + part
                            + "', which is not a token of tokenizer.ggml.tokens");
                }
                inVocab[id] = true;
            }
        }
        ObjectNode root = F.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode vocab = F.objectNode();
        for (int i = 0; i < n; i++) {
            TokenType t = type(types, i);
            if (t == TokenType.CONTROL || t == TokenType.USER_DEFINED || t == TokenType.UNKNOWN) {
                added.addObject().put("id", i).put("content", tokens[i]).put("single_word", false).put("lstrip", false)
                        .put("rstrip", false).put("normalized", false).put("special", t != TokenType.USER_DEFINED);
            }
            if (inVocab[i]) {
                vocab.put(tokens[i], i);
            }
        }
        ArrayNode mergeArray = F.arrayNode(merges.length);
        for (String m : merges) {
            mergeArray.add(m);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", rules.preTokenizer());

        int bos = specialId(md, "tokenizer.ggml.bos_token_id", n);
        int eos = specialId(md, "tokenizer.ggml.eos_token_id", n);
        boolean addBos = tok.addsBos();
        boolean addEos = tok.addsEos();
        if (addBos && bos < 0 && tok.bos() >= 0 && tok.bos() < n) {
            bos = tok.bos(); // llama.cpp's default BOS for a file that adds one without naming it
        }
        if (addEos && eos < 0 && tok.eos() >= 0 && tok.eos() < n) {
            eos = tok.eos();
        }
        if ((addBos && bos < 0) || (addEos && eos < 0)) {
            throw new ConversionException(file, "field 'tokenizer.ggml.add_" + (addBos && bos < 0 ? "bos" : "eos")
                    + "_token': the vocabulary adds a token it has no id for");
        }
        root.set("post_processor", postProcessor(tokens, addBos ? bos : -1, addEos ? eos : -1));
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", rules.ignoreMerges());
        model.set("vocab", vocab);
        model.set("merges", mergeArray);

        ObjectNode cfg = F.objectNode();
        cfg.put("add_bos_token", addBos);
        cfg.put("add_eos_token", addEos);
        String[][] specials = {{"bos_token", null}, {"eos_token", null}, {"unk_token", "tokenizer.ggml.unknown_token_id"},
                {"pad_token", "tokenizer.ggml.padding_token_id"}};
        for (String[] s : specials) {
            int id = s[1] == null ? (s[0].equals("bos_token") ? bos : eos) : specialId(md, s[1], n);
            if (id >= 0) {
                cfg.put(s[0], tokens[id]);
            }
        }
        cfg.put("clean_up_tokenization_spaces", rules.cleanUpTokenizationSpaces());
        cfg.put("tokenizer_class", "PreTrainedTokenizerFast");
        chatTemplates(md, cfg);
        return new Output(root.toPrettyString() + "\n", cfg.toPrettyString() + "\n");
    }

    private static ObjectNode postProcessor(String[] tokens, int bos, int eos) {
        ObjectNode byteLevel = F.objectNode().put("type", "ByteLevel").put("add_prefix_space", true)
                .put("trim_offsets", false).put("use_regex", true);
        if (bos < 0 && eos < 0) {
            return byteLevel;
        }
        ObjectNode tp = F.objectNode().put("type", "TemplateProcessing");
        ArrayNode single = tp.putArray("single");
        ArrayNode pair = tp.putArray("pair");
        template(single, tokens, bos, eos, "A", 0);
        template(pair, tokens, bos, eos, "A", 0);
        template(pair, tokens, bos, eos, "B", 1);
        ObjectNode st = tp.putObject("special_tokens");
        for (int id : new int[] {bos, eos}) {
            if (id >= 0) {
                ObjectNode e = st.putObject(tokens[id]).put("id", tokens[id]);
                e.putArray("ids").add(id);
                e.putArray("tokens").add(tokens[id]);
            }
        }
        ObjectNode seq = F.objectNode().put("type", "Sequence");
        seq.putArray("processors").add(byteLevel).add(tp);
        return seq;
    }

    private static void template(ArrayNode out, String[] tokens, int bos, int eos, String seq, int typeId) {
        if (bos >= 0) {
            out.addObject().putObject("SpecialToken").put("id", tokens[bos]).put("type_id", typeId);
        }
        out.addObject().putObject("Sequence").put("id", seq).put("type_id", typeId);
        if (eos >= 0) {
            out.addObject().putObject("SpecialToken").put("id", tokens[eos]).put("type_id", typeId);
        }
    }

    private static void chatTemplates(GgufMetadata md, ObjectNode cfg) {
        Map<String, String> named = new TreeMap<>();
        for (String k : md.keys()) {
            if (k.startsWith(CHAT_TEMPLATE + ".")) {
                named.put(k.substring(CHAT_TEMPLATE.length() + 1), md.getString(k));
            }
        }
        String main = md.getString(CHAT_TEMPLATE, null);
        if (named.isEmpty()) {
            if (main != null) {
                cfg.put("chat_template", main);
            }
            return;
        }
        // several templates: HF's list form, which TokenizerJsonVocab reads back into the same keys
        ArrayNode list = cfg.putArray("chat_template");
        if (main != null) {
            list.addObject().put("name", "default").put("template", main);
        }
        named.forEach((name, t) -> list.addObject().put("name", name).put("template", t));
    }

    private static String[] strings(GgufMetadata md, Path file, String key) throws ConversionException {
        if (!md.contains(key)) {
            throw new ConversionException(file, "field '" + key + "': missing (a gpt2 vocabulary needs it)");
        }
        try {
            return md.getStringArray(key);
        } catch (RuntimeException e) {
            throw new ConversionException(file, "field '" + key + "': not an array of strings (" + e.getMessage() + ")");
        }
    }

    private static TokenType type(int[] types, int i) {
        return types == null ? TokenType.NORMAL : TokenType.fromCode(types[i]);
    }

    /** An id in [0, n), or -1 where the key is absent or says "none" (-1 / 0xFFFFFFFF) or points past the tokens. */
    private static int specialId(GgufMetadata md, String key, int n) {
        long v = md.getLong(key, -1);
        return v >= 0 && v < n ? (int) v : -1;
    }
}
