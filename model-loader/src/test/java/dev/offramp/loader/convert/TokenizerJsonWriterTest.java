package dev.offramp.loader.convert;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufMetadata;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.gguf.GgufWriter;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import dev.offramp.loader.tokenizer.HfTokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GGUF byte-level BPE vocabularies written as HF {@code tokenizer.json} ({@link TokenizerJsonWriter},
 * {@code offramp convert model.gguf DIR}). Oracles no one here wrote: llama.cpp's tokenizer test
 * vectors for llama-bpe (through {@code random/tiny-llama3-vocab.gguf}, checked against them in
 * llama.cpp), gpt-2 and starcoder (llama.cpp's own vocab GGUFs), read back by the runtime's
 * tokenizer.json reader; and the GGUF metadata arrays themselves after a round trip.
 */
class TokenizerJsonWriterTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    static Path tiny;
    static Path hf;

    @BeforeAll
    static void convertTinyLlama3() throws IOException {
        tiny = Fixtures.model("random/tiny-llama3-vocab.gguf");
        hf = shared.resolve("hf");
        GgufToHf.convert(tiny, hf, ConvertOptions.defaults());
    }

    static Tokenizer ggufTokenizer(Path gguf) throws IOException {
        try (GgufFile f = GgufFile.open(gguf)) {
            return GgufTokenizers.fromMetadata(f.metadata().entries(), gguf.toString());
        }
    }

    record Case(String text, int[] ids) {
    }

    /** llama.cpp's test-tokenizer-0 files: inputs split by a marker line, one line of ids per input. */
    static List<Case> vectors(Path inp) throws IOException {
        String raw = Files.readString(inp, StandardCharsets.UTF_8);
        List<String> inputs = new ArrayList<>(List.of(raw.split("\n__ggml_vocab_test__\n", -1)));
        List<String> out = Files.readAllLines(Path.of(inp.toString().replace(".inp", ".out")), StandardCharsets.UTF_8);
        if (inputs.size() == out.size() + 1 && inputs.getLast().isEmpty()) {
            inputs.removeLast();
        }
        assertThat(inputs).hasSameSizeAs(out).hasSizeGreaterThan(40);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            String l = out.get(i).strip();
            cases.add(new Case(inputs.get(i), l.isEmpty() ? new int[0] : Arrays.stream(l.split(" ")).mapToInt(Integer::parseInt).toArray()));
        }
        return cases;
    }

    /** Every vector encodes to llama.cpp's ids through {@code ours}, and ids decode as the GGUF tokenizer decodes them. */
    static void assertSameAsLlamaCpp(Tokenizer ours, Tokenizer gguf, List<Case> cases) {
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            int[] got = ours.encode(c.text(), false, false);
            if (!Arrays.equals(got, c.ids())) {
                failures.add("encode '" + c.text() + "': expected " + Arrays.toString(c.ids()) + " got " + Arrays.toString(got));
            }
            if (!Arrays.equals(ours.encode(c.text(), true, true), gguf.encode(c.text(), true, true))) {
                failures.add("encode with BOS and specials '" + c.text() + "' differs from the GGUF tokenizer");
            }
            for (boolean special : new boolean[] {false, true}) {
                String a = ours.decode(c.ids(), special);
                String b = gguf.decode(c.ids(), special);
                if (!a.equals(b)) {
                    failures.add("decode " + Arrays.toString(c.ids()) + ": '" + a + "' vs GGUF '" + b + "'");
                }
            }
        }
        assertThat(failures).as("of %d vectors", cases.size()).isEmpty();
    }

    @Test
    void llama3TokenizerJsonTokenizesLlamaCppsLlamaBpeVectorsAsTheGgufDoes() throws IOException {
        assertThat(hf.resolve("tokenizer.json")).isRegularFile();
        Tokenizer ours = HfTokenizers.fromFile(hf);
        Tokenizer gguf = ggufTokenizer(tiny);
        assertSameAsLlamaCpp(ours, gguf, vectors(Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-bpe.gguf.inp")));
        // BOS is added (add_bos_token), control tokens parse as one id, EOS named
        assertThat(ours.encode("Hello world", true, false)).containsExactly(128000, 9906, 1917);
        assertThat(ours.encode("<|eot_id|>", false, true)).containsExactly(128009);
        assertThat(ours.bos()).isEqualTo(128000);
        assertThat(ours.eos()).isEqualTo(128001);
        assertThat(ours.vocabSize()).isEqualTo(gguf.vocabSize());
        String text = Files.readString(Fixtures.model("trained/stories-ee12-valid.txt")).substring(0, 6000);
        assertThat(ours.encode(text, true, false)).isEqualTo(gguf.encode(text, true, false));

        JsonNode t = JSON.readTree(hf.resolve("tokenizer.json").toFile());
        assertThat(t.path("model").path("byte_fallback").asBoolean(true)).isFalse();
        assertThat(t.path("model").path("ignore_merges").asBoolean(false)).isTrue();
        assertThat(t.path("model").path("vocab").size()).isEqualTo(128000);
        assertThat(t.path("model").path("merges").size()).isEqualTo(280147);
        assertThat(t.path("added_tokens").size()).isEqualTo(256);
        assertThat(t.path("added_tokens").get(9).path("content").asText()).isEqualTo("<|eot_id|>");
        assertThat(t.path("added_tokens").get(9).path("special").asBoolean()).isTrue();
        assertThat(t.path("decoder").path("type").asText()).isEqualTo("ByteLevel");
        assertThat(t.path("post_processor").path("processors").get(1).path("single").get(0).path("SpecialToken")
                .path("id").asText()).isEqualTo("<|begin_of_text|>");
        JsonNode cfg = JSON.readTree(hf.resolve("tokenizer_config.json").toFile());
        assertThat(cfg.path("bos_token").asText()).isEqualTo("<|begin_of_text|>");
        assertThat(cfg.path("eos_token").asText()).isEqualTo("<|end_of_text|>");
        assertThat(cfg.path("add_bos_token").asBoolean(false)).isTrue();
        assertThat(cfg.has("pad_token")).isFalse();
        assertThat(cfg.has("chat_template")).isFalse(); // the fixture has none
    }

    @Test
    void wholeModelGgufToHfToGgufKeepsTokenizerMetadataAndTensors() throws IOException {
        Path back = shared.resolve("back.gguf");
        HfToGguf.convert(hf, back, ConvertOptions.defaults());
        try (GgufFile a = GgufFile.open(tiny); GgufFile b = GgufFile.open(back)) {
            Map<String, GgufValue> ta = tokenizerKeys(a.metadata());
            Map<String, GgufValue> tb = tokenizerKeys(b.metadata());
            assertThat(ta.keySet()).contains("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
                    "tokenizer.ggml.add_eos_token");
            assertThat(tb.keySet()).containsExactlyInAnyOrderElementsOf(ta.keySet());
            for (String k : ta.keySet()) {
                assertThat(tb.get(k)).as(k).isEqualTo(ta.get(k));
            }
            for (Tensor t : a.tensors().values()) {
                Tensor u = b.tensor(t.name());
                assertThat(u.type()).as(t.name()).isEqualTo(t.type());
                assertThat(u.data().toArray(ValueLayout.JAVA_BYTE)).as(t.name()).isEqualTo(t.data().toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }

    @Test
    void theHfFolderGeneratesWhatTheGgufGenerates() throws IOException {
        // the folder's weights and tokenizer.json against the original file, through the whole runtime
        var opts = dev.offramp.core.generate.GenerateOptions.greedy(16);
        try (var a = dev.offramp.core.Models.load(tiny); var b = dev.offramp.core.Models.load(hf)) {
            var x = a.generate("Once upon a time, 3333 <|eot_id|>", opts, null);
            var y = b.generate("Once upon a time, 3333 <|eot_id|>", opts, null);
            assertThat(y.tokens()).isNotEmpty().isEqualTo(x.tokens());
            assertThat(y.text()).isEqualTo(x.text());
        }
    }

    static Map<String, GgufValue> tokenizerKeys(GgufMetadata md) {
        Map<String, GgufValue> m = new TreeMap<>();
        md.entries().forEach((k, v) -> {
            if (k.startsWith("tokenizer.")) {
                m.put(k, v);
            }
        });
        return m;
    }

    /** llama.cpp's own gpt-2 and starcoder vocab GGUFs (vocabulary only, no weights). */
    @ParameterizedTest
    @ValueSource(strings = {"gpt-2", "starcoder"})
    void llamaCppVocabGgufsRoundTripAndTokenizeTheirVectors(String name, @TempDir Path tmp) throws IOException {
        Path gguf = Fixtures.model("llama.cpp-vocab/ggml-vocab-" + name + ".gguf");
        try (GgufFile f = GgufFile.open(gguf)) {
            GgufMetadata md = f.metadata();
            TokenizerJsonWriter.write(md, tmp);
            Tokenizer ours = HfTokenizers.fromFile(tmp);
            assertSameAsLlamaCpp(ours, ggufTokenizer(gguf), vectors(Path.of(gguf + ".inp")));
            // tokenizer.json -> GGUF metadata: the same arrays, pre name and special ids
            GgufMetadata again = new GgufMetadata("again", TokenizerJsonVocab.read(tmp));
            for (String k : List.of("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.model",
                    "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id")) {
                assertThat(again.get(k).value()).as(k).isEqualTo(md.get(k).value());
            }
            assertThat(again.getIntArray("tokenizer.ggml.token_type")).isEqualTo(md.getIntArray("tokenizer.ggml.token_type"));
            assertThat(again.getLong("tokenizer.ggml.unknown_token_id", -1)).isEqualTo(md.getLong("tokenizer.ggml.unknown_token_id", -1));
            // neither file says add_bos_token; llama.cpp's default for both (false) is written explicitly
            assertThat(again.getBool("tokenizer.ggml.add_bos_token")).isFalse();
        }
        JsonNode cfg = JSON.readTree(tmp.resolve("tokenizer_config.json").toFile());
        assertThat(cfg.path("clean_up_tokenization_spaces").asBoolean(false)).isTrue();
        // GPT-2's <|endoftext|> is a control token only; nothing adds it
        JsonNode pp = JSON.readTree(tmp.resolve("tokenizer.json").toFile()).path("post_processor");
        assertThat(pp.path("type").asText()).isEqualTo("ByteLevel");
    }

    /**
     * Hugging Face's own tokenizers library (the Rust implementation, through DJL) loads the written
     * files and encodes llama.cpp's vectors to llama.cpp's ids; with special tokens on, Llama 3's
     * post-processor adds BOS and GPT-2's adds nothing.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama-bpe", "gpt-2", "starcoder"})
    void huggingFacesTokenizersLoadsTheWrittenFileAndEncodesAsLlamaCpp(String name, @TempDir Path tmp) throws IOException {
        Path dir = hf;
        if (!name.equals("llama-bpe")) {
            try (GgufFile f = GgufFile.open(Fixtures.model("llama.cpp-vocab/ggml-vocab-" + name + ".gguf"))) {
                TokenizerJsonWriter.write(f.metadata(), tmp);
            }
            dir = tmp;
        }
        List<String> failures = new ArrayList<>();
        List<Case> cases = vectors(Fixtures.model("llama.cpp-vocab/ggml-vocab-" + name + ".gguf.inp"));
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("addSpecialTokens", "false"))) {
            for (Case c : cases) {
                long[] got = tok.encode(c.text(), false, false).getIds();
                if (!Arrays.equals(got, Arrays.stream(c.ids()).asLongStream().toArray())) {
                    failures.add("'" + c.text() + "': expected " + Arrays.toString(c.ids()) + " got " + Arrays.toString(got));
                }
            }
            long[] hello = tok.encode("Hello world", true, false).getIds();
            if (name.equals("llama-bpe")) {
                assertThat(hello).containsExactly(128000, 9906, 1917);
            } else {
                assertThat(hello).hasSize(2);
            }
        }
        assertThat(failures).as("HF tokenizers on %d %s vectors", cases.size(), name).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"deepseek-coder", "deepseek-llm"})
    void preTokenizersWithoutTokenizerJsonRulesAreRefusedByField(String name) throws IOException {
        Path gguf = Fixtures.model("llama.cpp-vocab/ggml-vocab-" + name + ".gguf");
        try (GgufFile f = GgufFile.open(gguf)) {
            assertThatThrownBy(() -> TokenizerJsonWriter.toJson(f.metadata())).isInstanceOf(ConversionException.class)
                    .hasMessageContaining(gguf.toString()).hasMessageContaining("tokenizer.ggml.pre")
                    .hasMessageContaining("'" + name + "'").hasMessageContaining("llama-bpe");
        }
    }

    @Test
    void aModelWithAnUnwritableVocabularyIsRefusedAndLeavesNothing(@TempDir Path tmp) throws IOException {
        Path bad = tmp.resolve("bad.gguf");
        try (GgufFile src = GgufFile.open(Fixtures.model("stories260K.gguf"))) {
            GgufWriter w = GgufWriter.copyOf(src);
            w.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
            w.put("tokenizer.ggml.pre", GgufValue.string("no-such-pre"));
            w.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings("\u2581 t")));
            int[] normal = new int[src.metadata().getStringArray("tokenizer.ggml.tokens").length];
            Arrays.fill(normal, 1); // SentencePiece byte tokens would be refused first
            w.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(normal)));
            w.write(bad);
        }
        Path dest = tmp.resolve("out");
        assertThatThrownBy(() -> GgufToHf.convert(bad, dest, ConvertOptions.defaults()))
                .isInstanceOf(ConversionException.class).hasMessageContaining(bad.toString())
                .hasMessageContaining("tokenizer.ggml.pre").hasMessageContaining("no-such-pre");
        try (var s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("bad.gguf");
        }
    }

    // ------------------------------------------------------------------ small hand-made vocabularies

    /** a, b, c, ab, abc, <|endoftext|> (control), <tool> (user-defined), two trailing pads. */
    static Map<String, GgufValue> small() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        m.put("tokenizer.ggml.pre", GgufValue.string("gpt-2"));
        m.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings("a", "b", "c", "ab", "abc",
                "<|endoftext|>", "<tool>", "[PAD7]", "[PAD8]")));
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(1, 1, 1, 1, 1, 3, 4, 5, 5)));
        m.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings("a b", "ab c")));
        m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(5));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(5));
        m.put("tokenizer.ggml.padding_token_id", GgufValue.uint32(6));
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        m.put("tokenizer.chat_template", GgufValue.string("{{ messages }}"));
        m.put("tokenizer.chat_template.tool_use", GgufValue.string("{{ tools }}"));
        return m;
    }

    @Test
    void smallVocabularyPadsAddedTokensTemplatesAndBack(@TempDir Path tmp) throws IOException {
        TokenizerJsonWriter.write(new GgufMetadata("small", small()), tmp);
        JsonNode t = JSON.readTree(tmp.resolve("tokenizer.json").toFile());
        assertThat(t.path("model").path("vocab").toString()).isEqualTo("{\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"abc\":4}");
        assertThat(t.path("added_tokens").toString()).contains("\"id\":5,\"content\":\"<|endoftext|>\"")
                .contains("\"id\":6,\"content\":\"<tool>\"").doesNotContain("PAD");
        assertThat(t.path("added_tokens").get(0).path("special").asBoolean()).isTrue();
        assertThat(t.path("added_tokens").get(1).path("special").asBoolean()).isFalse();
        assertThat(t.path("model").path("ignore_merges").asBoolean(true)).isFalse();
        JsonNode cfg = JSON.readTree(tmp.resolve("tokenizer_config.json").toFile());
        assertThat(cfg.path("pad_token").asText()).isEqualTo("<tool>");
        assertThat(cfg.path("chat_template").toString())
                .isEqualTo("[{\"name\":\"default\",\"template\":\"{{ messages }}\"},{\"name\":\"tool_use\",\"template\":\"{{ tools }}\"}]");
        Tokenizer tok = HfTokenizers.fromFile(tmp);
        assertThat(tok.encode("cabc<tool>", true, false)).containsExactly(5, 2, 4, 6);
        // back to GGUF metadata with the embedding rows (config.json's vocab_size): the pads come back
        Map<String, GgufValue> again = TokenizerJsonVocab.read(tmp, 9);
        Map<String, GgufValue> orig = small();
        for (String k : orig.keySet()) {
            assertThat(again.get(k)).as(k).isEqualTo(orig.get(k));
        }
    }

    @Test
    void addedTokensThatMergesUseAreAlsoInTheVocabAndMidVocabUnusedStays(@TempDir Path tmp) throws IOException {
        Map<String, GgufValue> m = small();
        m.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings("a", "b", "c", "ab", "abc",
                "<|endoftext|>", "<tool>", "[PAD7]", "[PAD8]", "z")));
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(1, 1, 4, 1, 1, 3, 4, 5, 5, 1)));
        m.put("tokenizer.ggml.pre", GgufValue.string("llama3")); // an alias of llama-bpe
        TokenizerJsonWriter.write(new GgufMetadata("small", m), tmp);
        JsonNode t = JSON.readTree(tmp.resolve("tokenizer.json").toFile());
        assertThat(t.path("model").path("vocab").toString())
                .isEqualTo("{\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"abc\":4,\"[PAD7]\":7,\"[PAD8]\":8,\"z\":9}");
        assertThat(t.path("added_tokens").toString()).contains("\"id\":2,\"content\":\"c\"");
        assertThat(t.path("model").path("ignore_merges").asBoolean(false)).isTrue();
        assertThat(new GgufMetadata("x", TokenizerJsonVocab.read(tmp)).getString("tokenizer.ggml.pre")).isEqualTo("llama-bpe");
    }

    static void refused(Consumer<Map<String, GgufValue>> mutate, String... fragments) {
        Map<String, GgufValue> m = small();
        mutate.accept(m);
        var e = assertThatThrownBy(() -> TokenizerJsonWriter.toJson(new GgufMetadata("bad.gguf", m)))
                .isInstanceOf(ConversionException.class).hasMessageStartingWith("bad.gguf: ");
        for (String f : fragments) {
            e.hasMessageContaining(f);
        }
    }

    @Test
    void malformedVocabulariesAreRefusedByField() {
        refused(m -> m.remove("tokenizer.ggml.pre"), "tokenizer.ggml.pre", "missing");
        refused(m -> m.put("tokenizer.ggml.pre", GgufValue.string("default")), "tokenizer.ggml.pre", "'default'");
        refused(m -> m.put("tokenizer.ggml.pre", GgufValue.string("stablelm2")), "tokenizer.ggml.pre", "stablelm2");
        refused(m -> m.remove("tokenizer.ggml.merges"), "tokenizer.ggml.merges", "missing");
        refused(m -> m.remove("tokenizer.ggml.tokens"), "tokenizer.ggml.tokens", "missing");
        refused(m -> m.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings("a b", "abc"))),
                "tokenizer.ggml.merges[1]", "'abc'");
        refused(m -> m.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings("a b", "x c"))),
                "tokenizer.ggml.merges[1]", "'x'");
        refused(m -> m.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings("a b", "b c"))),
                "tokenizer.ggml.merges[1]", "makes 'bc'");
        refused(m -> m.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(1, 1, 1))),
                "tokenizer.ggml.token_type", "3 types for 9 tokens");
        refused(m -> m.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings("a", "b", "c", "ab", "abc",
                "<|endoftext|>", "a", "[PAD7]", "[PAD8]"))), "tokenizer.ggml.tokens", "ids 0 and 6");
        refused(m -> m.put("tokenizer.ggml.model", GgufValue.string("llama")), "tokenizer.ggml.model", "'llama'");
        refused(m -> m.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(1, 1, 6, 1, 1, 3, 4, 5, 5))),
                "tokenizer.ggml.token_type[2]", "type 6");
        refused(m -> m.put("tokenizer.ggml.pre", GgufValue.uint32(2)), "tokenizer.ggml.pre", "expected STRING");
        refused(m -> m.put("tokenizer.ggml.bos_token_id", GgufValue.string("5")), "tokenizer.ggml.bos_token_id");
    }
}
