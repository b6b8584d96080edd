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

    @Test
    void ggufToHfWritesTheSentencePieceTokenizerAndBack(@TempDir Path tmp) throws Exception {
        Path gguf = Fixtures.model("stories260K.gguf");
        Path hf = tmp.resolve("hf");
        StringWriter err = new StringWriter();
        assertThat(run(err, "convert", gguf.toString(), hf.toString())).as(err.toString()).isZero();
        assertThat(hf.resolve("tokenizer.model")).exists();
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
