package dev.offramp.loader.fuzz;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.hf.HfConfig;
import dev.offramp.loader.hf.HfFormatException;
import dev.offramp.loader.safetensors.SafetensorsCheckpoint;
import dev.offramp.loader.safetensors.SafetensorsFormatException;
import dev.offramp.loader.safetensors.SafetensorsFile;
import dev.offramp.loader.safetensors.SafetensorsHeader;
import dev.offramp.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded, in-memory mutation fuzzing of the JSON-shaped inputs: safetensors headers, sharded
 * checkpoint indexes and HF {@code config.json}. Each mutated input ends in a result or in the
 * reader's documented exception ({@link SafetensorsFormatException}, {@link HfFormatException})
 * whose message starts with the input's name and names the field or tensor at fault. The GGUF
 * binary format has its own suite ({@code GgufFuzzTest}); tokenizer metadata is in
 * {@link TokenizerMetadataFuzzTest}.
 *
 * <p>{@code -Dofframp.fuzz.seed=S} replays, {@code -Dofframp.fuzz.scale=N} runs N times as many cases.
 */
class FormatFuzzTest {

    /** What {@link HfConfig#read} uses; config.json has no in-memory byte entry point, so the test parses. */
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    @Test
    void safetensorsHeaders() throws Exception {
        byte[] file = Files.readAllBytes(Fixtures.model("derived/stories260K-hf/model.safetensors"));
        long headerLen = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        byte[] header = Arrays.copyOfRange(file, 8, 8 + (int) headerLen);
        long dataSize = file.length - 8 - headerLen;
        JsonNode seed = JsonMutator.parse(header);
        // the unmutated header must parse: otherwise every case would be a rejection and prove nothing
        assertThat(SafetensorsHeader.parse(Path.of("seed"), header, dataSize).entries()).isNotEmpty();

        FuzzRun run = new FuzzRun("safetensors-header").run(2500, 250, Duration.ofSeconds(30), (rnd, name) -> {
            if (rnd.nextInt(10) == 0) {
                // a legal variation (other __metadata__, other layout) must still be accepted
                ObjectNode n = seed.deepCopy();
                ObjectNode md = n.has("__metadata__") ? (ObjectNode) n.get("__metadata__") : n.putObject("__metadata__");
                md.put("k" + rnd.nextInt(1000), rnd.nextBoolean() ? "" : "välue \u0000 " + rnd.nextLong());
                byte[] legal = rnd.nextBoolean() ? STRICT.writerWithDefaultPrettyPrinter().writeValueAsBytes(n)
                        : STRICT.writeValueAsBytes(n);
                assertThat(SafetensorsHeader.parse(Path.of(name), legal, dataSize).entries()).isNotEmpty();
                return;
            }
            byte[] json = JsonMutator.mutate(seed, rnd);
            long size = switch (rnd.nextInt(8)) {
                case 0 -> 0;
                case 1 -> dataSize - 1 - rnd.nextInt(1000);
                case 2 -> dataSize / 2;
                default -> dataSize;
            };
            if (rnd.nextInt(4) == 0) {
                // the whole image, with a length prefix that may lie
                byte[] image = new byte[8 + json.length + (int) dataSize];
                long prefix = switch (rnd.nextInt(6)) {
                    case 0 -> -1L;
                    case 1 -> Long.MAX_VALUE;
                    case 2 -> json.length + 1L + rnd.nextInt(64);
                    case 3 -> Math.max(0, json.length - 1 - rnd.nextInt(64));
                    default -> json.length;
                };
                ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putLong(0, prefix);
                System.arraycopy(json, 0, image, 8, json.length);
                System.arraycopy(file, 8 + (int) headerLen, image, 8 + json.length, (int) dataSize);
                try (SafetensorsFile f = SafetensorsFile.open(MemorySegment.ofArray(image), Path.of(name))) {
                    for (Tensor t : f.tensors().values()) {
                        if (t.byteSize() > 0) {
                            t.data().get(ValueLayout.JAVA_BYTE, t.byteSize() - 1);
                        }
                    }
                }
                return;
            }
            SafetensorsHeader h = SafetensorsHeader.parse(Path.of(name), json, Math.max(0, size));
            for (SafetensorsHeader.Entry e : h.entries()) {
                // an accepted header hands out only views that lie inside the data section
                assertThat(e.begin()).isBetween(0L, e.end());
                assertThat(e.end()).isLessThanOrEqualTo(Math.max(0, size));
            }
        }, t -> t instanceof SafetensorsFormatException && namesAField(t.getMessage()));
        assertThat(run.rejected()).isGreaterThan(run.accepted() / 4);
        assertThat(run.accepted()).isPositive();
    }

    @Test
    void safetensorsIndexes() throws Exception {
        ObjectNode seedNode = STRICT.createObjectNode();
        seedNode.putObject("metadata").put("total_size", 1044984);
        ObjectNode map = seedNode.putObject("weight_map");
        String[] names = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
                "model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.down_proj.weight"};
        for (int i = 0; i < names.length; i++) {
            map.put(names[i], "model-0000" + (1 + i % 2) + "-of-00002.safetensors");
        }
        byte[] seedBytes = STRICT.writeValueAsBytes(seedNode);
        assertThat(SafetensorsCheckpoint.parseIndex(Path.of("seed.json"), seedBytes)).hasSize(names.length);
        List<String> hostile = List.of("../model.safetensors", "/etc/passwd", "", ".", "a/b.safetensors",
                "..", "x\u0000y", "C:\\x", "./model-00001-of-00002.safetensors");

        FuzzRun run = new FuzzRun("safetensors-index").run(1500, 250, Duration.ofSeconds(30), (rnd, name) -> {
            byte[] json;
            if (rnd.nextInt(4) == 0) {
                ObjectNode n = seedNode.deepCopy();
                ((ObjectNode) n.get("weight_map")).put(names[rnd.nextInt(names.length)],
                        hostile.get(rnd.nextInt(hostile.size())));
                json = STRICT.writeValueAsBytes(n);
            } else {
                json = JsonMutator.mutate(seedNode, rnd);
            }
            var m = SafetensorsCheckpoint.parseIndex(Path.of(name), json);
            for (String shard : m.values()) {
                // accepted shard names never leave the index's folder
                assertThat(Path.of("d").resolve(shard).normalize().getParent()).isEqualTo(Path.of("d"));
            }
        }, t -> t instanceof SafetensorsFormatException && namesAField(t.getMessage()));
        assertThat(run.rejected()).isGreaterThan(run.accepted() / 4);
        assertThat(run.accepted()).isPositive();
    }

    @Test
    void hfConfigs() throws Exception {
        List<JsonNode> seeds = List.of(
                JsonMutator.parse(Files.readAllBytes(Fixtures.model("derived/stories260K-hf/config.json"))),
                JsonMutator.parse(Files.readAllBytes(Fixtures.model("trained/stories-ee12-hf/config.json"))));
        for (JsonNode s : seeds) {
            HfConfig.parse(Path.of("seed"), s);
        }
        FuzzRun run = new FuzzRun("hf-config").run(2500, 250, Duration.ofSeconds(30), (rnd, name) -> {
            JsonNode seed = seeds.get(rnd.nextInt(seeds.size()));
            byte[] json = JsonMutator.mutate(seed, rnd);
            Path file = Path.of(name);
            JsonNode root;
            try {
                root = STRICT.readTree(json);
            } catch (JacksonException e) {
                // what HfConfig.read does with the same exception
                throw new HfFormatException(file, "malformed JSON: " + e.getOriginalMessage(), e);
            }
            HfConfig c = HfConfig.parse(file, root);
            assertThat(c.config().dim()).isPositive();
            assertThat(c.config().heads() % c.config().kvHeads()).isZero();
        }, t -> t instanceof HfFormatException && (namesAField(t.getMessage())
                // checks done by ModelConfig name its component (ropeDim, kvHeads, ...)
                || IDENTIFIER.matcher(t.getMessage()).find()));
        assertThat(run.rejected()).isGreaterThan(run.accepted() / 4);
        assertThat(run.accepted()).isPositive();
    }

    private static final java.util.regex.Pattern IDENTIFIER =
            java.util.regex.Pattern.compile(": .*\\b[a-z]+([A-Z][a-z]*|_[a-z]+)+\\b");

    /** The message says which field, tensor or part of the document is at fault. */
    static boolean namesAField(String message) {
        return message != null && (message.contains("'") || message.contains("JSON") || message.contains("field")
                || message.contains("header"));
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
