package dev.offramp.loader.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Tokenizers from HF / SentencePiece / Llama 3 files must match llama.cpp's vectors like the GGUF ones. */
class HfTokenizersTest {

    static List<LlamaCppVocabVectorsTest.Case> vectors(String vocab) throws IOException {
        Path inp = Fixtures.model("llama.cpp-vocab/ggml-vocab-" + vocab + ".gguf.inp");
        return LlamaCppVocabVectorsTest.readCases(inp, Path.of(inp.toString().replace(".inp", ".out")));
    }

    @Test
    void llama2SentencePieceModelPassesLlamaSpmVectors() throws IOException {
        Tokenizer t = HfTokenizers.fromFile(Fixtures.model("tokenizers/llama2/tokenizer.model"));
        assertThat(t.vocabSize()).isEqualTo(32000);
        assertThat(t.bos()).isEqualTo(1);
        assertThat(t.eos()).isEqualTo(2);
        assertThat(t.addsBos()).isTrue();
        LlamaCppVocabVectorsTest.check("llama-spm (tokenizer.model)", t, vectors("llama-spm"));
    }

    @Test
    void llama32FilesPassLlamaBpeVectorsAndMatchTheGguf() throws IOException {
        Path dir = Fixtures.model("tokenizers/llama3.2");
        Tokenizer t = HfTokenizers.fromFile(dir);
        assertThat(t.vocabSize()).isEqualTo(128256);
        assertThat(t.bos()).isEqualTo(128000);
        assertThat(t.eot()).isEqualTo(128009);
        LlamaCppVocabVectorsTest.check("llama-bpe (encoder.json)", t, vectors("llama-bpe"));

        Tokenizer gguf;
        Path g = Fixtures.model("random/tiny-llama3-vocab.gguf");
        try (GgufFile f = GgufFile.open(g)) {
            gguf = GgufTokenizers.fromMetadata(f.metadata().entries(), g.toString());
        }
        String[] a = new String[t.vocabSize()];
        String[] b = new String[gguf.vocabSize()];
        for (int id = 0; id < a.length; id++) {
            a[id] = t.piece(id);
        }
        for (int id = 0; id < b.length; id++) {
            b[id] = gguf.piece(id);
        }
        assertThat(a).isEqualTo(b);
        Random r = new Random(3);
        String[] parts = {"<|eot_id|>", "<|start_header_id|>", "Hello", " world", "\n\n", "🦙", "123456", "'ll", "<|python_tag|>"};
        for (int i = 0; i < 200; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = r.nextInt(8); k > 0; k--) {
                sb.append(parts[r.nextInt(parts.length)]);
            }
            assertThat(t.encode(sb.toString(), true, true)).isEqualTo(gguf.encode(sb.toString(), true, true));
        }
    }

    @Test
    void tokenizerJsonWithLlama3SplitRegex(@TempDir Path tmp) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Path dir = Fixtures.model("tokenizers/llama3.2");
        ObjectNode root = json.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.put("ignore_merges", true);
        model.set("vocab", json.readTree(dir.resolve("encoder.json").toFile()));
        ArrayNode merges = model.putArray("merges");
        for (String l : Files.readAllLines(dir.resolve("vocab.bpe"), StandardCharsets.UTF_8)) {
            if (!l.isEmpty()) {
                String[] ab = l.split(" ", 2);
                merges.addArray().add(ab[0]).add(ab[1]); // the newer pair form
            }
        }
        ArrayNode added = root.putArray("added_tokens");
        List<String> specials = HfTokenizers.llama3SpecialTokens();
        for (int i = 0; i < specials.size(); i++) {
            added.addObject().put("id", 128000 + i).put("content", specials.get(i)).put("special", true);
        }
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode seq = pre.putArray("pretokenizers");
        ObjectNode split = seq.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex",
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
        split.put("behavior", "Isolated").put("invert", false); // as Llama 3's tokenizer.json has them
        seq.addObject().put("type", "ByteLevel").put("use_regex", false);
        Path tj = tmp.resolve("tokenizer.json");
        json.writeValue(tj.toFile(), root);
        Files.writeString(tmp.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<|begin_of_text|>\", \"eos_token\": \"<|eot_id|>\", \"add_bos_token\": true}");
        Tokenizer t = HfTokenizers.fromFile(tmp);
        assertThat(t.bos()).isEqualTo(128000);
        assertThat(t.eos()).isEqualTo(128009);
        assertThat(t.encode("Hi", true, false)).startsWith(128000);
        LlamaCppVocabVectorsTest.check("llama-bpe (tokenizer.json)", t, vectors("llama-bpe"));

        // an unknown split rule is refused by name, not guessed
        split.putObject("pattern").put("Regex", "\\w+");
        json.writeValue(tj.toFile(), root);
        assertThatThrownBy(() -> HfTokenizers.fromFile(tj)).isInstanceOf(TokenizerFormatException.class)
                .hasMessageContaining("pre_tokenizer");

        // SmolLM/StarCoder rules (Digits(individual) + ByteLevel): one token per digit, as llama.cpp's
        // smollm/starcoder pre-tokenizers split them (this vocabulary has 3-digit tokens that gpt-2's
        // rules would use); the runtime used to read these rules as plain gpt-2.
        seq.removeAll();
        seq.addObject().put("type", "Digits").put("individual_digits", true);
        seq.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
        json.writeValue(tj.toFile(), root);
        Tokenizer digits = HfTokenizers.fromFile(tmp);
        int[] perDigit = new int[5];
        for (int i = 0; i < 5; i++) {
            perDigit[i] = digits.encode(String.valueOf(i + 1), false, false)[0];
        }
        assertThat(digits.encode("12345", false, false)).containsExactly(perDigit);
        assertThat(t.encode("12345", false, false)).hasSizeLessThan(5);
    }

    @Test
    void sentencePieceStyleTokenizerJsonUsesTheTokenizerModelBesideIt(@TempDir Path tmp) throws IOException {
        Path json = tmp.resolve("tokenizer.json");
        Files.writeString(json, "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {}, \"merges\": []}}");
        assertThatThrownBy(() -> HfTokenizers.fromFile(json)).isInstanceOf(TokenizerFormatException.class)
                .hasMessageContaining("tokenizer.model");
        Files.copy(Fixtures.model("tokenizers/llama2/tokenizer.model"), tmp.resolve("tokenizer.model"));
        Tokenizer t = HfTokenizers.fromFile(json);
        assertThat(t.vocabSize()).isEqualTo(32000);
        assertThat(t.encode("Hello world", false, false)).containsExactly(15043, 3186);
    }

    @Test
    void badFilesFailWithTheFileName(@TempDir Path tmp) throws IOException {
        Path bad = tmp.resolve("tokenizer.json");
        Files.writeString(bad, "{ not json");
        assertThatThrownBy(() -> HfTokenizers.fromFile(bad)).isInstanceOf(TokenizerFormatException.class)
                .hasMessageContaining(bad.toString());
        Path model = tmp.resolve("tokenizer.model");
        Files.write(model, new byte[]{(byte) 0x0A, (byte) 0xFF, 1});
        assertThatThrownBy(() -> HfTokenizers.fromFile(model)).isInstanceOf(TokenizerFormatException.class)
                .hasMessageContaining(model.toString());
        assertThatThrownBy(() -> HfTokenizers.fromFile(tmp.resolve("missing"))).isInstanceOf(TokenizerFormatException.class);
        assertThatThrownBy(() -> GgufTokenizers.fromMetadata(java.util.Map.of("tokenizer.ggml.model", "llama"), "x.gguf"))
                .isInstanceOf(TokenizerFormatException.class).hasMessageContaining("tokenizer.ggml.tokens");
        assertThatThrownBy(() -> GgufTokenizers.fromMetadata(java.util.Map.of(
                "tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", List.of("a", "b"),
                "tokenizer.ggml.merges", List.of("a b"), "tokenizer.ggml.pre", "no-such-pre"), "x.gguf"))
                .isInstanceOf(TokenizerFormatException.class).hasMessageContaining("no-such-pre");
        assertThat(GgufTokenizers.find(java.util.Map.of(), "x.gguf")).isEmpty();
    }
}
