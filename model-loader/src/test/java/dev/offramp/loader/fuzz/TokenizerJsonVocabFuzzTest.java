package dev.offramp.loader.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.convert.ConversionException;
import dev.offramp.loader.convert.TokenizerJsonVocab;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded mutation of a byte-level BPE {@code tokenizer.json} (Llama 3 split rules, the first 1,000
 * Llama 3.2 tokens and their merges, two added tokens) fed to the HF -> GGUF vocabulary writer:
 * every case ends in metadata that our own GGUF tokenizer loads and uses, or a
 * {@link ConversionException} naming the file. A writer that accepted something the runtime then
 * cannot load would be a converter producing unusable files.
 */
class TokenizerJsonVocabFuzzTest {

    @Test
    void mutatedTokenizerJsonConvertsOrIsRefused(@TempDir Path tmp) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path dir = Fixtures.model("tokenizers/llama3.2");
        JsonNode encoder = json.readTree(dir.resolve("encoder.json").toFile());
        ObjectNode root = json.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 1000).put("content", "<|begin_of_text|>").put("special", true);
        added.addObject().put("id", 1001).put("content", "<|eot_id|>").put("special", true);
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode seq = pre.putArray("pretokenizers");
        ObjectNode split = seq.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex",
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
        split.put("behavior", "Isolated").put("invert", false);
        seq.addObject().put("type", "ByteLevel").put("use_regex", false);
        ObjectNode model = root.putObject("model").put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        Set<String> kept = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = encoder.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().asInt() < 1000) {
                vocab.put(e.getKey(), e.getValue().asInt());
                kept.add(e.getKey());
            }
        }
        ArrayNode merges = model.putArray("merges");
        for (String l : Files.readAllLines(dir.resolve("vocab.bpe"), StandardCharsets.UTF_8)) {
            String[] ab = l.split(" ", 2);
            if (ab.length == 2 && kept.contains(ab[0]) && kept.contains(ab[1]) && kept.contains(ab[0] + ab[1])) {
                merges.add(l);
            }
        }
        String config = "{\"bos_token\": \"<|begin_of_text|>\", \"eos_token\": \"<|eot_id|>\", \"chat_template\": \"x\"}";
        String[] texts = {"Hello world", "", "héllo 🙂 1234567", "<|eot_id|> done", "  \n\n\t x"};

        // the seed itself converts and tokenizes
        Path seedDir = Files.createDirectories(tmp.resolve("seed"));
        json.writeValue(seedDir.resolve("tokenizer.json").toFile(), root);
        Files.writeString(seedDir.resolve("tokenizer_config.json"), config);
        Map<String, GgufValue> seedMd = TokenizerJsonVocab.read(seedDir, 1100);
        Tokenizer seed = GgufTokenizers.fromMetadata(seedMd, "seed");
        int[] hello = seed.encode("Hello world", true, false); // (only the first 1,000 tokens: several pieces)
        assertThat(hello).startsWith(1000).hasSizeGreaterThan(3);
        assertThat(seed.decode(hello, false)).isEqualTo("Hello world");

        FuzzRun run = new FuzzRun("tokenizer-json-vocab").run(300, 100, Duration.ofSeconds(30), (rnd, name) -> {
            Path d = Files.createDirectories(tmp.resolve(name));
            Files.write(d.resolve("tokenizer.json"), JsonMutator.mutate(root, rnd));
            if (rnd.nextBoolean()) {
                Files.writeString(d.resolve("tokenizer_config.json"), config);
            }
            Map<String, GgufValue> md = TokenizerJsonVocab.read(d, rnd.nextBoolean() ? 0 : 1000 + rnd.nextInt(200));
            Tokenizer t = GgufTokenizers.fromMetadata(md, name);
            int[] ids = t.encode(texts[rnd.nextInt(texts.length)], rnd.nextBoolean(), rnd.nextBoolean());
            t.decode(ids, rnd.nextBoolean());
        }, t -> t instanceof ConversionException);
        assertThat(run.rejected()).isPositive();
        assertThat(run.accepted()).isPositive();
    }
}
