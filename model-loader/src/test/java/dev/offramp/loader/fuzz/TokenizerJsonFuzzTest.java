package dev.offramp.loader.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.tokenizer.HfTokenizers;
import dev.offramp.loader.tokenizer.TokenizerFormatException;
import org.junit.jupiter.api.Test;

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
 * Seeded in-memory mutation of a HF {@code tokenizer.json} (byte-level BPE, Llama 3 split regex,
 * the first 2,000 Llama 3.2 tokens with their merges, added special tokens): every case ends in a
 * tokenizer that then encodes and decodes, or a {@link TokenizerFormatException} naming the input
 * and the field. Ids that would size the vocabulary arrays far beyond the file (2^31-1) are among
 * the mutations.
 */
class TokenizerJsonFuzzTest {

    @Test
    void mutatedTokenizerJson() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path dir = Fixtures.model("tokenizers/llama3.2");
        JsonNode encoder = json.readTree(dir.resolve("encoder.json").toFile());
        ObjectNode root = json.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        Set<String> kept = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = encoder.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().asInt() < 2000) {
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
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 2000).put("content", "<|begin_of_text|>").put("special", true);
        added.addObject().put("id", 2001).put("content", "<|eot_id|>").put("special", true);
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode seq = pre.putArray("pretokenizers");
        ObjectNode split = seq.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex",
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
        split.put("behavior", "Isolated").put("invert", false); // as Llama 3's tokenizer.json has them
        seq.addObject().put("type", "ByteLevel").put("use_regex", false);
        Tokenizer seed = HfTokenizers.fromTokenizerJson(json.writeValueAsBytes(root), "seed");
        assertThat(seed.encode("Hello world", false, false)).isNotEmpty();

        String[] texts = {"Hello world", "", "héllo 🙂 1234567", "<|eot_id|> done", "  \n\n\t x"};
        FuzzRun run = new FuzzRun("tokenizer-json").run(600, 250, Duration.ofSeconds(30), (rnd, name) -> {
            byte[] doc;
            if (rnd.nextInt(5) == 0) {
                ObjectNode n = root.deepCopy();
                // an id that would size the arrays: huge, negative, or just past the end
                long id = switch (rnd.nextInt(4)) {
                    case 0 -> Integer.MAX_VALUE;
                    case 1 -> -1;
                    case 2 -> 1L << 33;
                    default -> 2002 + rnd.nextInt(10_000);
                };
                if (rnd.nextBoolean()) {
                    ((ObjectNode) n.get("model").get("vocab")).put("zz" + rnd.nextInt(1000), id);
                } else {
                    ((ObjectNode) n.get("added_tokens").get(0)).put("id", id);
                }
                doc = json.writeValueAsBytes(n);
            } else {
                doc = JsonMutator.mutate(root, rnd);
            }
            Tokenizer t = HfTokenizers.fromTokenizerJson(doc, name);
            String text = texts[rnd.nextInt(texts.length)];
            int[] ids = t.encode(text, rnd.nextBoolean(), rnd.nextBoolean());
            t.decode(ids, rnd.nextBoolean());
        }, t -> t instanceof TokenizerFormatException e && e.field() != null && !e.field().isEmpty());
        assertThat(run.rejected()).isPositive();
        assertThat(run.accepted()).isPositive();
    }
}
