package dev.offramp.loader.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.Models;
import dev.offramp.core.generate.GenerateOptions;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufMetadata;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.gguf.LlamaCppPeer;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code offramp convert} of an HF folder whose tokenizer is a byte-level BPE {@code tokenizer.json}.
 * No such file is among the fixtures, so one is assembled here, in the layout HF tokenizers writes
 * for Llama 3, from the Llama 3.2 {@code encoder.json}/{@code vocab.bpe} plus its 256 special tokens;
 * the weights come from {@code random/tiny-llama3-vocab.gguf} (converted to an HF folder first).
 * The oracle is llama.cpp: its test vectors for llama-bpe, the vocabulary arrays of the tiny GGUF
 * (written from the same files and checked against those vectors in llama.cpp), and the peer.
 */
class TokenizerJsonVocabTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
            + "{{ m['content'] }}<|eot_id|>{% endfor %}";

    @TempDir
    static Path shared;
    static Path tinyGguf;
    static Path hf;
    static Path converted;

    /** The Llama 3.x special tokens (ids 128000..128255) as its tokenizer.json names them. */
    static List<String> llama3Specials() {
        List<String> s = new ArrayList<>(List.of("<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"));
        for (int i = 3; s.size() < 256; i++) {
            s.add("<|reserved_special_token_" + i + "|>");
        }
        return s;
    }

    /** A Llama 3 style tokenizer.json (+ tokenizer_config.json) in {@code dir}. */
    static void writeLlama3Tokenizer(Path dir, boolean pairMerges) throws IOException {
        Path src = Fixtures.model("tokenizers/llama3.2/encoder.json").getParent();
        JsonNode encoder = JSON.readTree(src.resolve("encoder.json").toFile());
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        List<String> specials = llama3Specials();
        for (int i = 0; i < specials.size(); i++) {
            added.addObject().put("id", encoder.size() + i).put("content", specials.get(i)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", LLAMA3_SPLIT);
        split.put("behavior", "Isolated").put("invert", false);
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", false);
        ObjectNode post = root.putObject("post_processor").put("type", "Sequence");
        ArrayNode procs = post.putArray("processors");
        procs.addObject().put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", false)
                .put("use_regex", true);
        ObjectNode tp = procs.addObject().put("type", "TemplateProcessing");
        tp.putArray("single").addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 0);
        ((ArrayNode) tp.get("single")).addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);
        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", true);
        model.set("vocab", encoder);
        ArrayNode merges = model.putArray("merges");
        List<String> lines = Files.readAllLines(src.resolve("vocab.bpe"), StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isEmpty() || (i == 0 && l.startsWith("#version"))) {
                continue;
            }
            if (pairMerges) {
                int sp = l.indexOf(' ');
                merges.addArray().add(l.substring(0, sp)).add(l.substring(sp + 1));
            } else {
                merges.add(l);
            }
        }
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), root);
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("bos_token", "<|begin_of_text|>").put("eos_token", "<|end_of_text|>")
                .put("clean_up_tokenization_spaces", true).put("chat_template", TEMPLATE)
                .put("tokenizer_class", "PreTrainedTokenizerFast");
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
    }

    @BeforeAll
    static void convertTinyLlama3WithItsTokenizerJson() throws IOException {
        tinyGguf = Fixtures.model("random/tiny-llama3-vocab.gguf");
        hf = shared.resolve("hf");
        GgufToHf.convert(tinyGguf, hf, ConvertOptions.defaults());
        // GgufToHf's own tokenizer.json (TokenizerJsonWriter) is kept aside and compared below
        Files.move(hf.resolve("tokenizer.json"), shared.resolve("written-tokenizer.json"));
        Files.move(hf.resolve("tokenizer_config.json"), shared.resolve("written-tokenizer_config.json"));
        writeLlama3Tokenizer(hf, true);
        converted = shared.resolve("converted.gguf");
        HfToGguf.convert(hf, converted, ConvertOptions.defaults());
    }

    record Case(String text, int[] ids) {
    }

    /** llama.cpp's test-tokenizer-0 layout: inputs split by a marker line, one line of ids per input. */
    static List<Case> llamaBpeVectors() throws IOException {
        Path inp = Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-bpe.gguf.inp");
        String raw = Files.readString(inp, StandardCharsets.UTF_8);
        List<String> inputs = List.of(raw.split("\n__ggml_vocab_test__\n", -1));
        List<String> out = Files.readAllLines(Path.of(inp.toString().replace(".inp", ".out")), StandardCharsets.UTF_8);
        if (inputs.size() == out.size() + 1 && inputs.getLast().isEmpty()) {
            inputs = inputs.subList(0, out.size()); // trailing marker
        }
        assertThat(inputs).hasSameSizeAs(out).hasSizeGreaterThan(40);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            String l = out.get(i).strip();
            cases.add(new Case(inputs.get(i), l.isEmpty() ? new int[0] : Arrays.stream(l.split(" ")).mapToInt(Integer::parseInt).toArray()));
        }
        return cases;
    }

    static Tokenizer tokenizer(Path gguf) throws IOException {
        try (GgufFile f = GgufFile.open(gguf)) {
            return GgufTokenizers.fromMetadata(f.metadata().entries(), gguf.toString());
        }
    }

    @Test
    void convertedTokenizerEncodesLlamaCppsLlamaBpeVectors() throws IOException {
        Tokenizer tok = tokenizer(converted);
        List<String> failures = new ArrayList<>();
        List<Case> cases = llamaBpeVectors();
        for (Case c : cases) {
            int[] got = tok.encode(c.text(), false, false);
            if (!Arrays.equals(got, c.ids())) {
                failures.add("'" + c.text() + "': expected " + Arrays.toString(c.ids()) + " got " + Arrays.toString(got));
            }
        }
        assertThat(failures).as("of %d llama-bpe vectors", cases.size()).isEmpty();
        // BOS is added (Llama 3's TemplateProcessing) and the special tokens are control tokens
        assertThat(tok.encode("Hello world", true, false)).containsExactly(128000, 9906, 1917);
        assertThat(tok.encode("<|eot_id|>", false, true)).containsExactly(128009);
    }

    @Test
    void vocabularyArraysEqualTheTinyLlama3Gguf() throws IOException {
        try (GgufFile ours = GgufFile.open(converted); GgufFile ref = GgufFile.open(tinyGguf)) {
            GgufMetadata a = ours.metadata();
            GgufMetadata r = ref.metadata();
            for (String k : List.of("tokenizer.ggml.tokens", "tokenizer.ggml.merges")) {
                String[] x = a.getStringArray(k);
                String[] y = r.getStringArray(k);
                int n = Math.min(x.length, y.length);
                assertThat(n).as(k).isGreaterThan(100_000);
                assertThat(Arrays.copyOf(x, n)).as(k).isEqualTo(Arrays.copyOf(y, n));
            }
            assertThat(a.getStringArray("tokenizer.ggml.tokens")).hasSize(128256);
            assertThat(a.getIntArray("tokenizer.ggml.token_type")).isEqualTo(r.getIntArray("tokenizer.ggml.token_type"));
            for (String k : List.of("tokenizer.ggml.model", "tokenizer.ggml.pre")) {
                assertThat(a.getString(k)).as(k).isEqualTo(r.getString(k));
            }
            assertThat(a.getLong("tokenizer.ggml.bos_token_id")).isEqualTo(128000);
            assertThat(a.getLong("tokenizer.ggml.eos_token_id")).isEqualTo(128001);
            assertThat(a.getBool("tokenizer.ggml.add_bos_token")).isTrue();
            assertThat(a.contains("tokenizer.ggml.add_eos_token")).isFalse();
            assertThat(a.contains("tokenizer.ggml.unknown_token_id")).isFalse();
            assertThat(a.getString("tokenizer.chat_template")).isEqualTo(TEMPLATE);
        }
    }

    /** "left right" for both merge forms. */
    static List<String> mergeStrings(JsonNode merges) {
        List<String> out = new ArrayList<>();
        for (JsonNode m : merges) {
            out.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        return out;
    }

    static List<String> addedTokens(JsonNode root) {
        List<String> out = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            out.add(t.path("id").asInt() + " " + t.path("content").asText() + " " + t.path("special").asBoolean());
        }
        return out;
    }

    /** The vocabulary parts of two tokenizer.json files (+ their configs' special tokens) are equal. */
    static void assertSameVocabulary(JsonNode ours, JsonNode cfgOurs, JsonNode ref, JsonNode cfgRef) {
        assertThat(ours.path("model").path("vocab")).isEqualTo(ref.path("model").path("vocab"));
        assertThat(ours.path("model").path("vocab").size()).isEqualTo(128000);
        assertThat(mergeStrings(ours.path("model").path("merges"))).isEqualTo(mergeStrings(ref.path("model").path("merges")));
        assertThat(addedTokens(ours)).hasSize(256).isEqualTo(addedTokens(ref));
        for (String k : List.of("bos_token", "eos_token", "chat_template")) {
            assertThat(cfgOurs.path(k)).as(k).isEqualTo(cfgRef.path(k));
        }
    }

    @Test
    void ggufToHfWritesTheLlama3TokenizerJsonAsAssembledFromTheLlama32Files() throws IOException {
        // the tiny GGUF -> tokenizer.json (TokenizerJsonWriter) vs the one assembled from encoder.json/vocab.bpe
        JsonNode ours = JSON.readTree(shared.resolve("written-tokenizer.json").toFile());
        JsonNode ref = JSON.readTree(hf.resolve("tokenizer.json").toFile());
        JsonNode cfgRef = JSON.readTree(hf.resolve("tokenizer_config.json").toFile());
        JsonNode cfgOurs = JSON.readTree(shared.resolve("written-tokenizer_config.json").toFile());
        assertThat(ours.path("model").path("vocab")).isEqualTo(ref.path("model").path("vocab"));
        assertThat(mergeStrings(ours.path("model").path("merges"))).isEqualTo(mergeStrings(ref.path("model").path("merges")));
        assertThat(addedTokens(ours)).hasSize(256).isEqualTo(addedTokens(ref));
        for (String k : List.of("pre_tokenizer", "decoder", "normalizer")) {
            assertThat(ours.path(k)).as(k).isEqualTo(ref.path(k));
        }
        for (String k : List.of("byte_fallback", "ignore_merges", "type")) {
            assertThat(ours.path("model").path(k)).as(k).isEqualTo(ref.path("model").path(k));
        }
        JsonNode pp = ours.path("post_processor").path("processors");
        assertThat(pp.get(0)).isEqualTo(ref.path("post_processor").path("processors").get(0));
        assertThat(pp.get(1).path("single")).isEqualTo(ref.path("post_processor").path("processors").get(1).path("single"));
        for (String k : List.of("bos_token", "eos_token", "clean_up_tokenization_spaces")) {
            assertThat(cfgOurs.path(k)).as(k).isEqualTo(cfgRef.path(k));
        }
    }

    @Test
    void tokenizerJsonToGgufToTokenizerJsonKeepsVocabMergesAddedTokensAndSpecialIds() throws IOException {
        try (GgufFile g = GgufFile.open(converted)) {
            TokenizerJsonWriter.Output back = TokenizerJsonWriter.toJson(g.metadata());
            JsonNode ours = JSON.readTree(back.tokenizerJson());
            JsonNode cfgOurs = JSON.readTree(back.tokenizerConfigJson());
            assertSameVocabulary(ours, cfgOurs, JSON.readTree(hf.resolve("tokenizer.json").toFile()),
                    JSON.readTree(hf.resolve("tokenizer_config.json").toFile()));
            assertThat(cfgOurs.path("add_bos_token").asBoolean(false)).isTrue();
        }
    }

    @Test
    void llamaCppLoadsTheConvertedFileAndTokenizesAndGeneratesAsWeDo() throws Exception {
        Tokenizer tok = tokenizer(converted);
        // (each peer call is a child JVM loading the model: two texts covering contractions, digit
        // groups, spaces, emoji and several scripts; the 46 llama.cpp vectors are checked above)
        for (String text : List.of(" Hello World! 3333333 I've been 'told he's there\n\n  x",
                "\u1780\u17b6\u1793\u17cb\u178f\u17c2\u1796\u17b7\u179f\u17c1\u179f\u17a2\u17b6\u1785\ud83d\ude01 ?\u6211\u60f3\u5728apple")) {
            assertThat(LlamaCppPeer.encode(converted, text)).as(text).isEqualTo(tok.encode(text, false, false));
        }
        // same weights and vocabulary as the fixture it came from, so llama.cpp must generate the same
        String theirs = LlamaCppPeer.greedy(converted, "Once upon a time", 12);
        assertThat(theirs).isNotEmpty().isEqualTo(LlamaCppPeer.greedy(tinyGguf, "Once upon a time", 12));
        try (var g = Models.load(converted)) {
            String ours = g.generate("Once upon a time", GenerateOptions.greedy(12), null).text();
            assertThat(ours).isEqualTo(theirs);
        }
    }

    // ------------------------------------------------------------------ small hand-made tokenizer.json files

    /** A valid byte-level BPE tokenizer.json small enough to mutate: a, b, c, ab, abc + one added token. */
    static ObjectNode small() {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("added_tokens").addObject().put("id", 5).put("content", "<|endoftext|>").put("special", true);
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.putObject("vocab").put("a", 0).put("b", 1).put("c", 2).put("ab", 3).put("abc", 4);
        model.putArray("merges").add("a b").add("ab c");
        return root;
    }

    static Path dir(Path tmp, ObjectNode tokenizerJson) throws IOException {
        Path d = Files.createDirectories(tmp.resolve("m" + System.nanoTime()));
        JSON.writeValue(d.resolve("tokenizer.json").toFile(), tokenizerJson);
        return d;
    }

    static GgufMetadata md(Map<String, GgufValue> m) {
        return new GgufMetadata("test", m);
    }

    @Test
    void smallVocabularyTypesMergesAndPadding(@TempDir Path tmp) throws IOException {
        ObjectNode t = small();
        ((ArrayNode) t.get("added_tokens")).addObject().put("id", 6).put("content", "<custom>").put("special", false);
        ((ArrayNode) t.get("added_tokens")).addObject().put("id", 7).put("content", "<|im_end|>").put("special", false);
        ArrayNode pairs = JSON.createArrayNode();
        pairs.addArray().add("a").add("b");
        pairs.addArray().add("ab").add("c");
        ((ObjectNode) t.get("model")).set("merges", pairs);
        Path d = dir(tmp, t);
        Files.writeString(d.resolve("config.json"), "{\"vocab_size\": 12, \"eos_token_id\": 5}");
        Files.writeString(d.resolve("tokenizer_config.json"), "{\"clean_up_tokenization_spaces\": false, "
                + "\"add_bos_token\": false, \"pad_token\": {\"content\": \"<custom>\", \"special\": false}}");
        Files.writeString(d.resolve("chat_template.jinja"), "{{ messages }}");
        GgufMetadata m = md(TokenizerJsonVocab.read(d));
        assertThat(m.getStringArray("tokenizer.ggml.tokens")).containsExactly("a", "b", "c", "ab", "abc",
                "<|endoftext|>", "<custom>", "<|im_end|>", "[PAD8]", "[PAD9]", "[PAD10]", "[PAD11]");
        // special -> CONTROL, not special -> USER_DEFINED unless it looks like a control token; pads UNUSED
        assertThat(m.getIntArray("tokenizer.ggml.token_type")).containsExactly(1, 1, 1, 1, 1, 3, 4, 3, 5, 5, 5, 5);
        assertThat(m.getStringArray("tokenizer.ggml.merges")).containsExactly("a b", "ab c");
        assertThat(m.getString("tokenizer.ggml.pre")).isEqualTo("gpt-2");
        assertThat(m.getLong("tokenizer.ggml.eos_token_id")).isEqualTo(5);   // config.json
        assertThat(m.getLong("tokenizer.ggml.padding_token_id")).isEqualTo(6); // tokenizer_config.json, AddedToken form
        assertThat(m.contains("tokenizer.ggml.bos_token_id")).isFalse();
        assertThat(m.getBool("tokenizer.ggml.add_bos_token")).isFalse();
        assertThat(m.getString("tokenizer.chat_template")).isEqualTo("{{ messages }}");
        // the converted vocabulary loads in our tokenizer: "abc" is one token, "cab" two
        Tokenizer tok = GgufTokenizers.fromMetadata(m.entries(), "test");
        assertThat(tok.encode("abc", false, false)).containsExactly(4);
        assertThat(tok.encode("cab", false, false)).containsExactly(2, 3);
        // explicit row count; fewer rows than tokens is refused
        assertThat(md(TokenizerJsonVocab.read(d, 8)).getStringArray("tokenizer.ggml.tokens")).hasSize(8);
        assertThatThrownBy(() -> TokenizerJsonVocab.read(d, 7)).isInstanceOf(ConversionException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("8 tokens").hasMessageContaining("7 embedding rows");
    }

    @Test
    void pairMergesWithSpacesAreEncodedAsLlamaCppDoes(@TempDir Path tmp) throws IOException {
        ObjectNode t = small();
        ObjectNode vocab = (ObjectNode) t.get("model").get("vocab");
        vocab.put(" a", 6).put(" ab", 7);
        ((ArrayNode) t.get("added_tokens")).removeAll();
        ((ArrayNode) t.get("added_tokens")).addObject().put("id", 5).put("content", "<|endoftext|>").put("special", true);
        ArrayNode pairs = ((ObjectNode) t.get("model")).putArray("merges");
        pairs.addArray().add("a").add("b");
        pairs.addArray().add(" a").add("b");
        GgufMetadata m = md(TokenizerJsonVocab.read(dir(tmp, t)));
        assertThat(m.getStringArray("tokenizer.ggml.merges")).containsExactly("a b", "\u0120a b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "smollm", "starcoder", "llama-bpe"})
    void preTokenizerIsPickedByTheSplitRules(String expected, @TempDir Path tmp) throws IOException {
        ObjectNode t = small();
        ObjectNode pre = JSON.createObjectNode().put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        switch (expected) {
            case "qwen2", "llama-bpe" -> {
                ObjectNode split = steps.addObject().put("type", "Split");
                split.putObject("pattern").put("Regex", expected.equals("qwen2") ? QWEN2_SPLIT : LLAMA3_SPLIT);
                split.put("behavior", "Isolated").put("invert", false);
                steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
                if (expected.equals("qwen2")) {
                    t.putObject("normalizer").put("type", "NFC");
                }
            }
            default -> {
                steps.addObject().put("type", "Digits").put("individual_digits", true);
                steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
            }
        }
        t.set("pre_tokenizer", pre);
        Path d = dir(tmp, t);
        Files.writeString(d.resolve("tokenizer_config.json"), "{\"clean_up_tokenization_spaces\": "
                + !expected.equals("smollm") + "}");
        assertThat(md(TokenizerJsonVocab.read(d)).getString("tokenizer.ggml.pre")).isEqualTo(expected);
    }

    static void expectRefused(Path tmp, Consumer<ObjectNode> mutate, String... fragments) throws IOException {
        Path d = Files.createDirectories(tmp.resolve("hf" + System.nanoTime()));
        Path model = Fixtures.model("derived/stories260K-hf");
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(model.resolve(f), d.resolve(f));
        }
        ObjectNode t = small();
        mutate.accept(t);
        JSON.writeValue(d.resolve("tokenizer.json").toFile(), t);
        Path dest = tmp.resolve("out.gguf");
        var err = assertThatThrownBy(() -> HfToGguf.convert(d, dest, ConvertOptions.defaults()))
                .isInstanceOf(ConversionException.class).hasMessageContaining(d.resolve("tokenizer.json").toString());
        for (String f : fragments) {
            err.hasMessageContaining(f);
        }
        assertThat(dest).doesNotExist();
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("out"));
        }
    }

    @Test
    void badTokenizerJsonIsRefusedByFileAndFieldAndWritesNothing(@TempDir Path tmp) throws IOException {
        // the small tokenizer itself converts (the model has 512 rows: padded)
        expectRefusedNot(tmp);
        expectRefused(tmp, t -> ((ObjectNode) t.get("model")).remove("merges"), "model.merges", "missing");
        expectRefused(tmp, t -> ((ObjectNode) t.get("model")).putArray("merges"), "model.merges");
        expectRefused(tmp, t -> ((ObjectNode) t.get("model").get("vocab")).put("c", 1), "model.vocab", "id 1", "'b'", "'c'");
        expectRefused(tmp, t -> ((ObjectNode) t.get("added_tokens").get(0)).put("id", 4), "added_tokens[0]", "'abc'");
        expectRefused(tmp, t -> ((ObjectNode) t.get("added_tokens").get(0)).put("id", 9), "not dense", "id 9", "id 5 is not");
        expectRefused(tmp, t -> ((ObjectNode) t.get("added_tokens").get(0)).put("content", "ab"), "added_tokens[0]", "'ab'");
        for (String type : List.of("Unigram", "WordPiece", "WordLevel")) {
            expectRefused(tmp, t -> ((ObjectNode) t.get("model")).put("type", type), "model.type", type);
        }
        expectRefused(tmp, t -> ((ObjectNode) t.get("model")).put("byte_fallback", true), "model.byte_fallback");
        expectRefused(tmp, t -> ((ArrayNode) t.get("model").get("merges")).add("a"), "model.merges[2]");
        expectRefused(tmp, t -> ((ArrayNode) t.get("model").get("merges")).add("x y"), "model.merges[2]", "'x'");
        expectRefused(tmp, t -> ((ObjectNode) t.get("model").get("vocab")).put("d", -1), "model.vocab", "\"d\"");
        expectRefused(tmp, t -> t.putObject("pre_tokenizer").put("type", "Metaspace"), "pre_tokenizer", "Metaspace");
        expectRefused(tmp, t -> t.putObject("normalizer").put("type", "Lowercase"), "normalizer", "Lowercase");
        expectRefused(tmp, t -> ((ObjectNode) t.get("model")).remove("vocab"), "model.vocab");
        // duplicate keys in model.vocab (JSON that a lenient reader would take as "last one wins")
        Path d = Files.createDirectories(tmp.resolve("dup"));
        Files.writeString(d.resolve("tokenizer.json"), small().toString().replace("\"b\":1", "\"a\":1"));
        assertThatThrownBy(() -> TokenizerJsonVocab.read(d)).isInstanceOf(ConversionException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("Duplicate field 'a'");
        Files.writeString(d.resolve("tokenizer.json"), "");
        assertThatThrownBy(() -> TokenizerJsonVocab.read(d)).isInstanceOf(ConversionException.class)
                .hasMessageContaining("tokenizer.json");
    }

    private static void expectRefusedNot(Path tmp) throws IOException {
        Path d = Files.createDirectories(tmp.resolve("ok"));
        Path model = Fixtures.model("derived/stories260K-hf");
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(model.resolve(f), d.resolve(f));
        }
        JSON.writeValue(d.resolve("tokenizer.json").toFile(), small());
        Path dest = tmp.resolve("ok.gguf");
        HfToGguf.convert(d, dest, ConvertOptions.defaults());
        try (GgufFile g = GgufFile.open(dest)) {
            assertThat(g.metadata().getStringArray("tokenizer.ggml.tokens")).hasSize(512).startsWith("a", "b", "c");
        }
        Files.delete(dest);
    }

    @Test
    void noTokenizerIsStillAClearError(@TempDir Path tmp) throws IOException {
        Path d = Files.createDirectories(tmp.resolve("none"));
        Files.copy(Fixtures.model("derived/stories260K-hf").resolve("config.json"), d.resolve("config.json"));
        assertThatThrownBy(() -> HfToGguf.tokenizerMetadata(d, null)).isInstanceOf(ConversionException.class)
                .hasMessageContaining("no tokenizer").hasMessageContaining("--tokenizer");
    }
}
