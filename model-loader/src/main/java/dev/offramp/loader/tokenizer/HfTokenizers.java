package dev.offramp.loader.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.offramp.core.tokenizer.TokenType;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.core.tokenizer.TokenizerBuilder;
import dev.offramp.core.tokenizer.Vocabulary;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Tokenizers from Hugging Face / SentencePiece / tiktoken-style files, built to tokenize exactly as
 * llama.cpp does after converting the same files to GGUF:
 *
 * <ul>
 *   <li>{@code tokenizer.json}: a byte-level BPE model with the GPT-2, Llama 3 or Qwen2 split regex;
 *       {@code added_tokens} become CONTROL (special) or USER_DEFINED tokens; BOS/EOS and add_bos come
 *       from {@code tokenizer_config.json} next to it when present.</li>
 *   <li>{@code tokenizer.model}: a SentencePiece BPE model (Llama 2 style).</li>
 *   <li>{@code encoder.json} + {@code vocab.bpe}: the Llama 3 vocabulary in GPT-2 file layout; the 256
 *       Llama 3 special tokens are added at 128000+ as the Llama 3 tokenizer defines them.</li>
 * </ul>
 *
 * <pre>{@code
 * Tokenizer tok = HfTokenizers.fromFile(Path.of("model-dir"));          // or a file of the kinds above
 * }</pre>
 */
public final class HfTokenizers {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Llama 3's tokenizer.json is 9 MB, the largest vocabularies' about 35 MB. */
    private static final long MAX_JSON_BYTES = 256L << 20;

    private HfTokenizers() {
    }

    /**
     * @param path a folder holding one of the supported files, or the file itself
     * @throws TokenizerFormatException the file is malformed or of an unsupported kind
     * @throws IOException              the file cannot be read
     */
    public static Tokenizer fromFile(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            for (String name : List.of("tokenizer.json", "tokenizer.model", "encoder.json")) {
                if (Files.isRegularFile(path.resolve(name))) {
                    return fromFile(path.resolve(name));
                }
            }
            throw new TokenizerFormatException(path.toString(), "tokenizer",
                    "no tokenizer.json, tokenizer.model or encoder.json in the folder");
        }
        if (!Files.isRegularFile(path)) {
            throw new TokenizerFormatException(path.toString(), "tokenizer", "file not found");
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".json") && !name.equals("encoder.json")) {
            return fromTokenizerJson(path);
        }
        if (name.equals("encoder.json") || name.equals("vocab.bpe")) {
            Path dir = path.toAbsolutePath().getParent();
            return fromLlama3Files(dir.resolve("encoder.json"), dir.resolve("vocab.bpe"));
        }
        return fromSentencePiece(path);
    }

    // ------------------------------------------------------------------ SentencePiece

    /** A SentencePiece {@code tokenizer.model} of type BPE (Llama 2, Mistral v0.1, TinyLlama, ...). */
    public static Tokenizer fromSentencePiece(Path file) throws IOException {
        String src = file.toString();
        SentencePieceModel m = SentencePieceModel.parse(Files.readAllBytes(file), src);
        if (m.modelType() != SentencePieceModel.BPE) {
            throw new TokenizerFormatException(src, "trainer_spec.model_type",
                    "only SentencePiece BPE models are supported (this one is type " + m.modelType() + ", 1 = unigram)");
        }
        Vocabulary v = vocabulary(src, m.pieces(), m.scores(), m.types());
        TokenizerBuilder b = TokenizerBuilder.spm(v).source(src).addSpacePrefix(m.addDummyPrefix());
        b.bos(m.bosId()).eos(m.eosId()).unk(m.unkId());
        if (m.padId() >= 0) {
            b.pad(m.padId());
        }
        return build(b, src, "tokenizer.model");
    }

    // ------------------------------------------------------------------ Llama 3 files

    /** The Llama 3 special tokens 128000..128255 as the Llama 3.x tokenizer names them. */
    static List<String> llama3SpecialTokens() {
        List<String> s = new ArrayList<>(List.of("<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"));
        for (int i = 3; s.size() < 256; i++) {
            s.add("<|reserved_special_token_" + i + "|>");
        }
        return s;
    }

    /**
     * {@code encoder.json} (byte-level piece to id) and {@code vocab.bpe} (merges, one "a b" per line,
     * an optional {@code #version} header) of the Llama 3 vocabulary, plus its 256 special tokens.
     */
    public static Tokenizer fromLlama3Files(Path encoderJson, Path vocabBpe) throws IOException {
        String src = encoderJson.toString();
        JsonNode enc = readJson(encoderJson);
        if (!enc.isObject()) {
            throw new TokenizerFormatException(src, "(root)", "expected an object of piece -> id");
        }
        int n = enc.size();
        List<String> specials = llama3SpecialTokens();
        String[] pieces = new String[n + specials.size()];
        TokenType[] types = new TokenType[pieces.length];
        for (Iterator<Map.Entry<String, JsonNode>> it = enc.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0 || id >= n || pieces[id] != null) {
                throw new TokenizerFormatException(src, e.getKey(), "id " + e.getValue() + " is not a unique id in 0.." + (n - 1));
            }
            pieces[id] = e.getKey();
            types[id] = TokenType.NORMAL;
        }
        for (int i = 0; i < specials.size(); i++) {
            pieces[n + i] = specials.get(i);
            types[n + i] = TokenType.CONTROL;
        }
        List<String> merges = readMerges(vocabBpe);
        Vocabulary v = vocabulary(src, pieces, null, types);
        TokenizerBuilder b = TokenizerBuilder.bpe(v, merges, "llama-bpe").source(src)
                .bos(n).eos(n + 1).addBos(true).addEos(false);
        return build(b, src, "encoder.json");
    }

    private static List<String> readMerges(Path vocabBpe) throws IOException {
        long size = Files.size(vocabBpe);
        if (size > MAX_JSON_BYTES) {
            throw new TokenizerFormatException(vocabBpe.toString(), "(merges)", size
                    + " bytes is implausibly large for a merges file (limit " + MAX_JSON_BYTES + ")");
        }
        List<String> lines = Files.readAllLines(vocabBpe, StandardCharsets.UTF_8);
        List<String> merges = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isEmpty() || (i == 0 && l.startsWith("#version"))) {
                continue;
            }
            merges.add(l);
        }
        return merges;
    }

    // ------------------------------------------------------------------ tokenizer.json

    /** A HF {@code tokenizer.json} with a byte-level BPE model. */
    public static Tokenizer fromTokenizerJson(Path file) throws IOException {
        return fromTokenizerJson(readJson(file), file.toString(),
                file.toAbsolutePath().getParent().resolve("tokenizer_config.json"));
    }

    /**
     * A {@code tokenizer.json} already in memory ({@code sourceName} stands for the file in messages;
     * no {@code tokenizer_config.json} is consulted).
     *
     * @throws TokenizerFormatException the JSON is malformed or describes no usable tokenizer
     */
    public static Tokenizer fromTokenizerJson(byte[] json, String sourceName) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new TokenizerFormatException(sourceName, "(json)", "malformed JSON: " + e.getOriginalMessage(), e);
        }
        return fromTokenizerJson(root, sourceName, null);
    }

    private static Tokenizer fromTokenizerJson(JsonNode root, String src, Path configFile) throws IOException {
        if (root == null || !root.isObject()) {
            throw new TokenizerFormatException(src, "(json)", "not a JSON object");
        }
        JsonNode model = root.path("model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw new TokenizerFormatException(src, "model.type", "only BPE models are supported, not '" + type + "'");
        }
        if (model.path("byte_fallback").asBoolean(false)) {
            // a SentencePiece model exported to tokenizer.json (Llama 2, Mistral, TinyLlama): the
            // original tokenizer.model beside it carries the scores SentencePiece merging needs
            Path sp = configFile == null ? null : configFile.resolveSibling("tokenizer.model");
            if (sp != null && Files.isRegularFile(sp)) {
                return fromSentencePiece(sp);
            }
            throw new TokenizerFormatException(src, "model.byte_fallback",
                    "SentencePiece-style BPE in tokenizer.json is not supported without the tokenizer.model next to it");
        }
        JsonNode vocabNode = model.path("vocab");
        if (!vocabNode.isObject()) {
            throw new TokenizerFormatException(src, "model.vocab", "missing or not an object");
        }
        JsonNode added = root.path("added_tokens");
        // Ids size the arrays: a corrupt id (2^31-1) must not become a multi-GB allocation. Real files
        // number their tokens densely, so allow gaps but not more ids than twice the entries.
        long entries = vocabNode.size() + (long) added.size();
        long maxIds = 2 * entries + 1024;
        long size = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            size = Math.max(size, checkedId(src, "model.vocab." + e.getKey(), e.getValue(), maxIds) + 1);
        }
        for (JsonNode t : added) {
            size = Math.max(size, checkedId(src, "added_tokens", t.path("id"), maxIds) + 1);
        }
        String[] pieces = new String[(int) size];
        TokenType[] types = new TokenType[(int) size];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0) {
                throw new TokenizerFormatException(src, "model.vocab." + e.getKey(), "bad id " + e.getValue());
            }
            pieces[id] = e.getKey();
            types[id] = TokenType.NORMAL;
        }
        for (JsonNode t : added) {
            int id = t.path("id").asInt(-1);
            String content = t.path("content").asText(null);
            if (id < 0 || content == null) {
                throw new TokenizerFormatException(src, "added_tokens", "entry without id/content: " + t);
            }
            pieces[id] = content;
            types[id] = t.path("special").asBoolean(false) ? TokenType.CONTROL : TokenType.USER_DEFINED;
        }
        for (int i = 0; i < size; i++) {
            if (pieces[i] == null) { // gaps, as llama.cpp's converter pads them
                pieces[i] = "[PAD" + i + "]";
                types[i] = TokenType.UNUSED;
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray() && m.size() == 2) {
                merges.add(m.get(0).asText() + " " + m.get(1).asText());
            } else {
                merges.add(m.asText());
            }
        }
        // tokenizer_config.json only tells smollm from starcoder (the same split rules).
        JsonNode tokConfig = configFile != null && Files.isRegularFile(configFile)
                ? readJson(configFile) : MissingNode.getInstance();
        String pre = BpePreTokenizerName.of(src, root, tokConfig);
        Vocabulary v = vocabulary(src, pieces, null, types);
        TokenizerBuilder b = TokenizerBuilder.bpe(v, merges, pre).source(src);
        if (configFile != null) {
            applyTokenizerConfig(b, v, configFile);
        }
        return build(b, src, "tokenizer.json");
    }

    private static long checkedId(String src, String field, JsonNode id, long maxIds) {
        if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0 || id.intValue() >= maxIds) {
            throw new TokenizerFormatException(src, field, "id " + id + " is not an integer in [0, " + maxIds
                    + ") (ids are dense: at most twice the " + (maxIds - 1024) / 2 + " entries)");
        }
        return id.intValue();
    }

    private static void applyTokenizerConfig(TokenizerBuilder b, Vocabulary v, Path config) throws IOException {
        String bos = null;
        String eos = null;
        if (Files.isRegularFile(config)) {
            JsonNode c = readJson(config);
            bos = tokenText(c.get("bos_token"));
            eos = tokenText(c.get("eos_token"));
            if (c.has("add_bos_token") && c.get("add_bos_token").isBoolean()) {
                b.addBos(c.get("add_bos_token").asBoolean());
            }
            if (c.has("add_eos_token") && c.get("add_eos_token").isBoolean()) {
                b.addEos(c.get("add_eos_token").asBoolean());
            }
        }
        if (bos == null) {
            bos = firstPresent(v, "<|begin_of_text|>", "<s>");
        }
        if (eos == null) {
            eos = firstPresent(v, "<|end_of_text|>", "</s>", "<|endoftext|>");
        }
        b.bos(bos != null && v.id(bos) >= 0 ? v.id(bos) : -1);
        b.eos(eos != null && v.id(eos) >= 0 ? v.id(eos) : -1);
    }

    private static String tokenText(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        return n.isTextual() ? n.asText() : n.path("content").asText(null);
    }

    private static String firstPresent(Vocabulary v, String... names) {
        for (String s : names) {
            if (v.id(s) >= 0) {
                return s;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ helpers

    private static JsonNode readJson(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_JSON_BYTES) {
            // a JSON tree takes several times its text in heap: refuse before reading
            throw new TokenizerFormatException(file.toString(), "(json)", size + " bytes is implausibly large for a "
                    + "tokenizer file (limit " + MAX_JSON_BYTES + ")");
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new TokenizerFormatException(file.toString(), "(json)", "malformed JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static Vocabulary vocabulary(String src, String[] pieces, float[] scores, TokenType[] types) {
        try {
            return Vocabulary.of(pieces, scores, types);
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(src, "vocab", e.getMessage(), e);
        }
    }

    private static Tokenizer build(TokenizerBuilder b, String src, String field) {
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(src, field, e.getMessage(), e);
        }
    }

    static List<String> asList(String... s) {
        return Arrays.asList(s);
    }
}
