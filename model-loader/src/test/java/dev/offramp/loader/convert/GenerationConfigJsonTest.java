package dev.offramp.loader.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufMetadata;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Stop ids across {@code offramp convert}: a GGUF's eos/eot/eom ids become HF's
 * {@code generation_config.json} {@code eos_token_id} list (what HF's {@code generate()} stops at), and
 * the list comes back to a GGUF as {@code eot_token_id}/{@code eom_token_id}. The ids are checked against
 * the keys of the files themselves (HF's field names and llama.cpp's key names), on the stories260K
 * SentencePiece vocabulary and the Llama 3 byte-level BPE one with Llama 3's own special-token ids.
 */
class GenerationConfigJsonTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String EOS = "tokenizer.ggml.eos_token_id";
    static final String EOT = "tokenizer.ggml.eot_token_id";
    static final String EOM = "tokenizer.ggml.eom_token_id";

    /** {@code src} with its metadata changed by {@code edit}, written to {@code dir/name}. */
    static Path gguf(Path src, Path dir, String name, Consumer<GgufWriter> edit) throws IOException {
        Path out = dir.resolve(name);
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = GgufWriter.copyOf(f);
            edit.accept(w);
            w.write(out);
        }
        return out;
    }

    static Path stories(Path dir, Consumer<GgufWriter> edit) throws IOException {
        return gguf(Fixtures.model("stories260K.gguf"), dir, "in.gguf", edit);
    }

    static JsonNode generationConfig(Path hfDir) throws IOException {
        return JSON.readTree(hfDir.resolve("generation_config.json").toFile());
    }

    static Map<String, Long> stopKeys(Path gguf) throws IOException {
        try (GgufFile f = GgufFile.open(gguf)) {
            Map<String, Long> m = new LinkedHashMap<>();
            for (String k : new String[] {EOS, EOT, EOM}) {
                if (f.metadata().contains(k)) {
                    m.put(k, f.metadata().getLong(k));
                }
            }
            return m;
        }
    }

    // ------------------------------------------------------------------ GGUF -> HF

    @Test
    void eosEotAndEomBecomeOneListInThatOrder(@TempDir Path tmp) throws IOException {
        // eot above eom: the list keeps key order (eos, eot, eom), not id order
        Path in = stories(tmp, w -> w.put(EOT, GgufValue.uint32(7)).put(EOM, GgufValue.int32(5)));
        Path hf = tmp.resolve("hf");
        GgufToHf.convert(in, hf, ConvertOptions.defaults());
        JsonNode g = generationConfig(hf);
        assertThat(g.toString()).isEqualTo("{\"bos_token_id\":1,\"eos_token_id\":[2,7,5]}");
        // config.json keeps HF's single eos; the tokenizer's eos is still </s>
        assertThat(JSON.readTree(hf.resolve("config.json").toFile()).path("eos_token_id").asInt()).isEqualTo(2);
        assertThat(JSON.readTree(hf.resolve("tokenizer_config.json").toFile()).path("eos_token").asText()).isEqualTo("</s>");
        // nothing but the folder beside it (the file was written inside the folder's temp build)
        assertThat(tmp.toFile().list()).containsExactlyInAnyOrder("in.gguf", "hf");
    }

    @Test
    void onlyEosIsAPlainNumberAndANoTokenPaddingIdIsLeftOut(@TempDir Path tmp) throws IOException {
        Path hf = tmp.resolve("hf");
        // stories260K: bos 1, eos 2, padding 0xFFFFFFFF (llama.cpp's -1, "no token")
        GgufToHf.convert(Fixtures.model("stories260K.gguf"), hf, ConvertOptions.defaults());
        JsonNode g = generationConfig(hf);
        assertThat(g.path("eos_token_id").isInt()).as(g.toString()).isTrue();
        assertThat(g.toString()).isEqualTo("{\"bos_token_id\":1,\"eos_token_id\":2}");
    }

    @Test
    void duplicateStopIdsAreListedOnceAndAPaddingIdIsWritten(@TempDir Path tmp) throws IOException {
        Path in = stories(tmp, w -> w.put(EOT, GgufValue.uint32(2)).put(EOM, GgufValue.uint32(9))
                .put("tokenizer.ggml.padding_token_id", GgufValue.uint32(0)));
        Path hf = tmp.resolve("hf");
        GgufToHf.convert(in, hf, ConvertOptions.defaults());
        assertThat(generationConfig(hf).toString())
                .isEqualTo("{\"bos_token_id\":1,\"eos_token_id\":[2,9],\"pad_token_id\":0}");
    }

    @Test
    void noBosOrStopIdsMeansNoFileAndIdsOutsideTheVocabularyAreDropped(@TempDir Path tmp) throws IOException {
        Path none = stories(tmp, w -> w.remove("tokenizer.ggml.bos_token_id").remove(EOS));
        Path hf = tmp.resolve("hf");
        GgufToHf.convert(none, hf, ConvertOptions.defaults());
        assertThat(hf.resolve("config.json")).exists();
        assertThat(hf.resolve("generation_config.json")).doesNotExist();

        // 512 tokens: an eot of 512 names no token (llama.cpp warns and ignores such an id)
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings("a", "b", "c")));
        md.put(EOS, GgufValue.uint32(2));
        md.put(EOT, GgufValue.uint32(3));
        md.put(EOM, GgufValue.uint32(1));
        assertThat(GenerationConfigJson.fromGguf(new GgufMetadata("m", md), 3))
                .hasValueSatisfying(s -> assertThat(s.replaceAll("\\s", "")).isEqualTo("{\"eos_token_id\":[2,1]}"));
        md.put(EOS, GgufValue.string("2"));
        assertThatThrownBy(() -> GenerationConfigJson.fromGguf(new GgufMetadata("m.gguf", md), 3))
                .hasMessageContaining("m.gguf").hasMessageContaining(EOS);
    }

    // ------------------------------------------------------------------ HF -> GGUF -> HF

    @Test
    void sentencePieceRoundTripKeepsEveryStopId(@TempDir Path tmp) throws IOException {
        Path in = stories(tmp, w -> w.put(EOT, GgufValue.uint32(7)).put(EOM, GgufValue.uint32(5)));
        Path hf = tmp.resolve("hf");
        GgufToHf.convert(in, hf, ConvertOptions.defaults());
        // HF -> GGUF with the folder's own tokenizer.model, whose eos is </s> = 2: 7 and 5 are the extra stop ids
        Path back = tmp.resolve("back.gguf");
        HfToGguf.convert(hf, back, ConvertOptions.defaults());
        assertThat(stopKeys(back)).containsExactly(Map.entry(EOS, 2L), Map.entry(EOT, 7L), Map.entry(EOM, 5L));
        Path hf2 = tmp.resolve("hf2");
        GgufToHf.convert(back, hf2, ConvertOptions.defaults());
        assertThat(Files.readString(hf2.resolve("generation_config.json")))
                .isEqualTo(Files.readString(hf.resolve("generation_config.json")));
    }

    /** Llama 3.1 Instruct's layout: tokenizer eos {@code <|eot_id|>}, generation stops at three ids. */
    @Test
    void llama3ChatFolderListsEndOfTextEomAndEotAndComesBackAsTheSameList(@TempDir Path tmp) throws IOException {
        Path in = gguf(Fixtures.model("random/tiny-llama3-vocab.gguf"), tmp, "l3.gguf",
                w -> w.put(EOS, GgufValue.uint32(128009)).put(EOT, GgufValue.uint32(128001))
                        .put(EOM, GgufValue.uint32(128008)));
        Path hf = tmp.resolve("hf");
        GgufToHf.convert(in, hf, ConvertOptions.defaults());
        assertThat(generationConfig(hf).path("eos_token_id").toString()).isEqualTo("[128009,128001,128008]");
        assertThat(JSON.readTree(hf.resolve("tokenizer_config.json").toFile()).path("eos_token").asText())
                .isEqualTo("<|eot_id|>");
        Path back = tmp.resolve("back.gguf");
        HfToGguf.convert(hf, back, ConvertOptions.defaults());
        assertThat(stopKeys(back)).containsExactly(Map.entry(EOS, 128009L), Map.entry(EOT, 128001L),
                Map.entry(EOM, 128008L));
    }

    // ------------------------------------------------------------------ generation_config.json -> GGUF keys

    static Map<String, GgufValue> vocab(int n, Map<String, Long> ids) {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        String[] tokens = new String[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = "t" + i;
        }
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings(tokens)));
        ids.forEach((k, v) -> md.put(k, GgufValue.uint32(v)));
        return md;
    }

    static Map<String, Long> extra(Path dir, String json, Map<String, GgufValue> tokenizer) throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), json);
        Map<String, Long> out = new LinkedHashMap<>();
        GenerationConfigJson.extraStopIds(dir, tokenizer).forEach((k, v) -> out.put(k, v.asLong()));
        return out;
    }

    @Test
    void listedIdsFillTheFreeKeysInOrderAndOnlyThose(@TempDir Path tmp) throws IOException {
        assertThat(GenerationConfigJson.extraStopIds(tmp, vocab(10, Map.of(EOS, 2L)))).isEmpty(); // no file
        assertThat(extra(tmp, "{\"eos_token_id\": 2}", vocab(10, Map.of(EOS, 2L)))).isEmpty();
        assertThat(extra(tmp, "{\"eos_token_id\": [2, 8, 7]}", vocab(10, Map.of(EOS, 2L))))
                .containsExactly(Map.entry(EOT, 8L), Map.entry(EOM, 7L));
        // the tokenizer's own eot stays; the id it already names is not listed twice
        assertThat(extra(tmp, "{\"eos_token_id\": [2, 8, 7]}", vocab(10, Map.of(EOS, 2L, EOT, 7L))))
                .containsExactly(Map.entry(EOM, 8L));
        // no tokenizer eos: only eot/eom are filled (eos comes from the tokenizer files, not from this list)
        assertThat(extra(tmp, "{\"eos_token_id\": [2, 8]}", vocab(10, Map.of())))
                .containsExactly(Map.entry(EOT, 2L), Map.entry(EOM, 8L));
        // outside the vocabulary, repeated, or more than the two keys hold: skipped
        assertThat(extra(tmp, "{\"eos_token_id\": [2, 10, -1, 8, 8, 7, 6]}", vocab(10, Map.of(EOS, 2L))))
                .containsExactly(Map.entry(EOT, 8L), Map.entry(EOM, 7L));
        // a tokenizer GGUF's "no token" eot (0xFFFFFFFF) is a free key
        assertThat(extra(tmp, "{\"eos_token_id\": [2, 8]}", vocab(10, Map.of(EOS, 2L, EOT, 0xFFFF_FFFFL))))
                .containsExactly(Map.entry(EOT, 8L));
    }

    @Test
    void aBrokenGenerationConfigIsAnErrorNamingTheFileAndField(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("generation_config.json");
        Map<String, GgufValue> tok = vocab(10, Map.of(EOS, 2L));
        for (String[] c : new String[][] {{"{\"eos_token_id\": [2, \"8\"]}", "eos_token_id[1]"},
                {"{\"eos_token_id\": [2, 8.5]}", "eos_token_id[1]"}, {"[2, 8]", "not a JSON object"},
                {"{\"eos_token_id\": [2, 8", "not valid JSON"}}) {
            Files.writeString(file, c[0]);
            assertThatThrownBy(() -> GenerationConfigJson.extraStopIds(tmp, tok)).as(c[0])
                    .isInstanceOf(ConversionException.class).hasMessageContaining(file.toString())
                    .hasMessageContaining(c[1]);
        }
        // and HF -> GGUF stops before writing anything
        Path hf = tmp.resolve("hf");
        GgufToHf.convert(Fixtures.model("stories260K.gguf"), hf, ConvertOptions.defaults());
        Files.writeString(hf.resolve("generation_config.json"), "{\"eos_token_id\": [2, null]}");
        Path out = tmp.resolve("out.gguf");
        assertThatThrownBy(() -> HfToGguf.convert(hf, out, ConvertOptions.defaults()))
                .isInstanceOf(ConversionException.class).hasMessageContaining("eos_token_id[1]");
        assertThat(out).doesNotExist();
    }
}
