package dev.offramp.cli;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.LlamaCppPeer;
import dev.offramp.loader.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** HF <-> GGUF conversion against the shared fixtures (stories260K.gguf is llama.cpp's own layout). */
class ConvertCommandTest {

    static int run(StringWriter err, String... args) {
        return OfframpCli.commandLine().setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err)).execute(args);
    }

    static byte[] bytes(Tensor t) {
        return t.data().toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void stories260KHfToGgufEqualsLlamaCppsFileAndGeneratesTheSameText(@TempDir Path tmp) throws Exception {
        Path gguf = Fixtures.model("stories260K.gguf");
        Path out = tmp.resolve("s.gguf");
        StringWriter err = new StringWriter();
        assertThat(run(err, "convert", Fixtures.model("derived/stories260K-hf").toString(), out.toString(),
                "--tokenizer", gguf.toString())).as(err.toString()).isZero();
        try (GgufFile ours = GgufFile.open(out); GgufFile ref = GgufFile.open(gguf)) {
            // tied HF checkpoint: no output.weight (llama.cpp falls back to token_embd, equal bytes here)
            assertThat(ours.tensors().keySet()).doesNotContain("output.weight");
            assertThat(ours.tensors()).hasSize(ref.tensors().size() - 1);
            for (Tensor t : ours.tensors().values()) {
                Tensor r = ref.tensor(t.name());
                assertThat(t.type()).as(t.name()).isEqualTo(r.type());
                assertThat(t.shape()).as(t.name()).isEqualTo(r.shape());
                assertThat(bytes(t)).as(t.name()).isEqualTo(bytes(r));
            }
            assertThat(bytes(ref.tensor("output.weight"))).isEqualTo(bytes(ours.tensor("token_embd.weight")));
            assertThat(ours.metadata().getStringArray("tokenizer.ggml.tokens"))
                    .isEqualTo(ref.metadata().getStringArray("tokenizer.ggml.tokens"));
        }
        String theirs = LlamaCppPeer.greedy(gguf, "Once upon a time", 40);
        assertThat(LlamaCppPeer.greedy(out, "Once upon a time", 40)).isEqualTo(theirs);
    }

    @ParameterizedTest
    @ValueSource(strings = {"derived/stories260K-hf", "trained/stories-ee12-hf"})
    void hfToGgufToHfIsTensorForTensorIdentical(String hf, @TempDir Path tmp) throws Exception {
        Path src = Fixtures.model(hf);
        Path gguf = tmp.resolve("m.gguf");
        Path back = tmp.resolve("back");
        StringWriter err = new StringWriter();
        assertThat(run(err, "convert", src.toString(), gguf.toString(), "--tokenizer",
                Fixtures.model("stories260K.gguf").toString())).as(err.toString()).isZero();
        assertThat(run(err, "convert", gguf.toString(), back.toString())).as(err.toString()).isZero();
        try (SafetensorsCheckpoint a = SafetensorsCheckpoint.open(src); SafetensorsCheckpoint b = SafetensorsCheckpoint.open(back)) {
            assertThat(b.tensors().keySet()).containsExactlyInAnyOrderElementsOf(a.tensors().keySet());
            for (Tensor t : a.tensors().values()) {
                Tensor u = b.tensors().get(t.name());
                assertThat(u.type()).as(t.name()).isEqualTo(t.type());
                assertThat(u.shape()).as(t.name()).isEqualTo(t.shape());
                assertThat(bytes(u)).as(t.name()).isEqualTo(bytes(t));
            }
        }
        assertThat(Files.readString(back.resolve("config.json"))).contains("\"tie_word_embeddings\" : true");
        assertThat(tmp.toFile().list()).containsExactlyInAnyOrder("m.gguf", "back");
    }

    @Test
    void quantizedConvertAndBadInput(@TempDir Path tmp) throws Exception {
        Path hf = Fixtures.model("trained/stories-ee12-hf");
        StringWriter err = new StringWriter();
        Path q = tmp.resolve("q.gguf");
        assertThat(run(err, "convert", hf.toString(), q.toString(), "--type", "q8_0", "--tokenizer",
                Fixtures.model("stories260K.gguf").toString())).as(err.toString()).isZero();
        try (GgufFile f = GgufFile.open(q); GgufFile ref = GgufFile.open(Fixtures.model("trained/stories-ee12-Q8_0.gguf"))) {
            for (Tensor r : ref.tensors().values()) {
                Tensor t = f.tensor(r.name());
                assertThat(t.type()).as(r.name()).isEqualTo(r.type());
                if (t.type() == DType.Q8_0) {
                    assertThat(bytes(t)).as(r.name()).isEqualTo(bytes(r));
                }
            }
        }
        // no tokenizer: clear error, no file
        err.getBuffer().setLength(0);
        assertThat(run(err, "convert", hf.toString(), tmp.resolve("x.gguf").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("no tokenizer").contains("--tokenizer");
        // a folder that is not a model
        Path bogus = Files.createDirectory(tmp.resolve("bogus"));
        Files.writeString(bogus.resolve("config.json"), "{\"model_type\": \"gpt_neox\"}");
        err.getBuffer().setLength(0);
        assertThat(run(err, "convert", bogus.toString(), tmp.resolve("y.gguf").toString(), "--tokenizer",
                Fixtures.model("stories260K.gguf").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("gpt_neox");
        // GGUF -> HF into a non-empty folder is refused
        err.getBuffer().setLength(0);
        assertThat(run(err, "convert", q.toString(), bogus.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("not an empty folder");
        // GGUF -> HF with a quantized type is refused
        err.getBuffer().setLength(0);
        assertThat(run(err, "convert", q.toString(), tmp.resolve("z").toString(), "--type", "Q4_0")).isEqualTo(2);
        assertThat(tmp.toFile().list()).containsExactlyInAnyOrder("q.gguf", "bogus");
    }

    static Map<String, Object> tokenizerKeys(Path gguf) throws Exception {
        try (GgufFile g = GgufFile.open(gguf)) {
            Map<String, Object> m = new TreeMap<>();
            g.metadata().entries().forEach((k, v) -> {
                if (k.startsWith("tokenizer.")) {
                    m.put(k, v);
                }
            });
            return m;
        }
    }

    /** HF folders without a tokenizer take one from --tokenizer: a tokenizer.json, a tokenizer.model, or a folder. */
    @Test
    void tokenizerOptionTakesATokenizerJsonTokenizerModelOrAFolder(@TempDir Path tmp) throws Exception {
        StringWriter err = new StringWriter();
        // tokenizer.json (+ tokenizer_config.json) as GGUF -> HF writes it for the Llama 3 vocabulary
        Path tiny = Fixtures.model("random/tiny-llama3-vocab.gguf");
        Path l3 = tmp.resolve("l3");
        assertThat(run(err, "convert", tiny.toString(), l3.toString())).as(err.toString()).isZero();
        Path bare = Files.createDirectory(tmp.resolve("bare"));
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(l3.resolve(f), bare.resolve(f));
        }
        Path out = tmp.resolve("out.gguf");
        for (Path tok : List.of(l3.resolve("tokenizer.json"), l3)) {
            assertThat(run(err, "convert", bare.toString(), out.toString(), "--tokenizer", tok.toString()))
                    .as(err.toString()).isZero();
            // bos/eos/add_bos come from the tokenizer_config.json beside the tokenizer.json, not from the model folder
            assertThat(tokenizerKeys(out)).as(tok.toString()).isEqualTo(tokenizerKeys(tiny));
            Files.delete(out);
        }
        // SentencePiece tokenizer.model for a folder of the same vocabulary (stories-ee12 was trained on it)
        Path s = tmp.resolve("s");
        Path stories = Fixtures.model("stories260K.gguf");
        assertThat(run(err, "convert", stories.toString(), s.toString())).as(err.toString()).isZero();
        for (Path tok : List.of(s.resolve("tokenizer.model"), s)) {
            assertThat(run(err, "convert", Fixtures.model("trained/stories-ee12-hf").toString(), out.toString(),
                    "--tokenizer", tok.toString())).as(err.toString()).isZero();
            Map<String, Object> ours = tokenizerKeys(out);
            Map<String, Object> ref = tokenizerKeys(stories);
            for (String k : List.of("tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                    "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id")) {
                assertThat(ours.get(k)).as(k).isEqualTo(ref.get(k));
            }
            Files.delete(out);
        }
        // bad PATHs: one line naming the path, exit 2, nothing written
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Path text = Files.writeString(tmp.resolve("notes.txt"), "not a tokenizer");
        Path badJson = Files.createDirectory(tmp.resolve("badjson"));
        Files.writeString(badJson.resolve("tokenizer.json"), "{\"model\": 3}");
        Map<Path, String> bad = new LinkedHashMap<>();
        bad.put(tmp.resolve("missing.json"), "no such file or folder");
        bad.put(empty, "holds no tokenizer.json or tokenizer.model");
        bad.put(text, "neither a GGUF");
        bad.put(badJson, "field 'model'");
        for (Map.Entry<Path, String> e : bad.entrySet()) {
            err.getBuffer().setLength(0);
            assertThat(run(err, "convert", bare.toString(), out.toString(), "--tokenizer", e.getKey().toString()))
                    .as(err.toString()).isEqualTo(2);
            assertThat(err.toString()).contains(e.getKey().toString()).contains(e.getValue());
        }
        // GGUF -> HF writes the GGUF's own vocabulary: --tokenizer there is a mistake, not silently ignored
        err.getBuffer().setLength(0);
        assertThat(run(err, "convert", tiny.toString(), tmp.resolve("x").toString(), "--tokenizer", l3.toString()))
                .isEqualTo(2);
        assertThat(err.toString()).contains("--tokenizer applies to HF -> GGUF only");
        assertThat(tmp.toFile().list()).containsExactlyInAnyOrder("l3", "bare", "s", "empty", "notes.txt", "badjson");
    }

    @Test
    void ggufToHfWritesTheSentencePieceTokenizerAndBack(@TempDir Path tmp) throws Exception {
        Path gguf = Fixtures.model("stories260K.gguf");
        Path hf = tmp.resolve("hf");
        StringWriter err = new StringWriter();
        assertThat(run(err, "convert", gguf.toString(), hf.toString())).as(err.toString()).isZero();
        assertThat(hf.resolve("tokenizer.model")).exists();
        // an ordinary folder, not the owner-only temp directory it was built in
        assertThat(Files.getPosixFilePermissions(hf)).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ,
                java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
        assertThat(Files.readString(hf.resolve("tokenizer_config.json"))).contains("LlamaTokenizer").contains("<s>");
        String text = PerplexityCommand.readText(Fixtures.model("trained/stories-ee12-valid.txt")).substring(0, 4000);
        try (var a = dev.offramp.core.Models.load(gguf); var b = dev.offramp.core.Models.load(hf)) {
            assertThat(b.tokenizer().encode(text, true, false)).isEqualTo(a.tokenizer().encode(text, true, false));
            var opts = dev.offramp.core.generate.GenerateOptions.greedy(30);
            assertThat(b.generate("Once upon a time", opts, null).text())
                    .isEqualTo(a.generate("Once upon a time", opts, null).text());
        }
        // and back to GGUF with the folder's own tokenizer.model (no --tokenizer)
        Path again = tmp.resolve("again.gguf");
        assertThat(run(err, "convert", hf.toString(), again.toString())).as(err.toString()).isZero();
        try (GgufFile x = GgufFile.open(again); GgufFile y = GgufFile.open(gguf)) {
            for (String k : new String[] {"tokenizer.ggml.tokens"}) {
                assertThat(x.metadata().getStringArray(k)).isEqualTo(y.metadata().getStringArray(k));
            }
            assertThat(x.metadata().getFloatArray("tokenizer.ggml.scores")).isEqualTo(y.metadata().getFloatArray("tokenizer.ggml.scores"));
            assertThat(x.metadata().getIntArray("tokenizer.ggml.token_type")).isEqualTo(y.metadata().getIntArray("tokenizer.ggml.token_type"));
            for (Tensor t : x.tensors().values()) {
                assertThat(bytes(t)).as(t.name()).isEqualTo(bytes(y.tensor(t.name())));
            }
        }
        assertThat(LlamaCppPeer.greedy(again, "Once upon a time", 20)).isEqualTo(LlamaCppPeer.greedy(gguf, "Once upon a time", 20));
    }
}
