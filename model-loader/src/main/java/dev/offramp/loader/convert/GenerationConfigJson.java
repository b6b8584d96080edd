package dev.offramp.loader.convert;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufMetadata;
import dev.offramp.loader.gguf.GgufValue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The stop ids of HF's {@code generation_config.json} and llama.cpp's {@code tokenizer.ggml.*} special
 * ids, both ways. HF ends generation at any id of {@code eos_token_id} (one number, or a list when a chat
 * model has several: Llama 3's {@code <|end_of_text|>}, {@code <|eom_id|>}, {@code <|eot_id|>}); a GGUF
 * names them one key each: {@code eos_token_id}, {@code eot_token_id} (end of turn) and
 * {@code eom_token_id} (end of message). The list is written in that key order and read back in it, so
 * GGUF -> HF -> GGUF keeps which id is which.
 *
 * <pre>{@code
 * Optional<String> json = GenerationConfigJson.fromGguf(gguf.metadata(), 128256);
 * // {"bos_token_id": 128000, "eos_token_id": [128001, 128009, 128008]}
 * Map<String, GgufValue> extra = GenerationConfigJson.extraStopIds(hfDir, tokenizerMetadata);
 * // {"tokenizer.ggml.eot_token_id": 128009, ...} for the ids the tokenizer does not name yet
 * }</pre>
 */
final class GenerationConfigJson {

    static final String FILE = "generation_config.json";
    static final String BOS = "tokenizer.ggml.bos_token_id";
    static final String EOS = "tokenizer.ggml.eos_token_id";
    static final String EOT = "tokenizer.ggml.eot_token_id";
    static final String EOM = "tokenizer.ggml.eom_token_id";
    static final String PAD = "tokenizer.ggml.padding_token_id";
    /** HF's order of the stop-id list, and the keys free ids of a list fill, in order, coming back. */
    private static final List<String> STOP_KEYS = List.of(EOS, EOT, EOM);

    private static final System.Logger LOG = System.getLogger(GenerationConfigJson.class.getName());
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    /** HF's are a few hundred bytes; this only keeps a stray huge file from being read into memory. */
    private static final long MAX_BYTES = 1L << 20;

    private GenerationConfigJson() {
    }

    /**
     * The text of {@code generation_config.json} for a GGUF: {@code bos_token_id}, {@code eos_token_id}
     * (the distinct ids among eos, eot and eom, in that order; a plain number when only one) and
     * {@code pad_token_id}; empty when the GGUF names no bos, eos, eot or eom id.
     *
     * @param vocabSize ids at or above it are dropped with a warning, as llama.cpp drops a bad special id
     */
    static Optional<String> fromGguf(GgufMetadata md, int vocabSize) {
        int bos = id(md, BOS, vocabSize);
        Set<Integer> stops = new LinkedHashSet<>();
        for (String k : STOP_KEYS) {
            int id = id(md, k, vocabSize);
            if (id >= 0) {
                stops.add(id);
            }
        }
        if (bos < 0 && stops.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode o = JSON.createObjectNode();
        if (bos >= 0) {
            o.put("bos_token_id", bos);
        }
        if (stops.size() == 1) {
            o.put("eos_token_id", stops.iterator().next());
        } else if (stops.size() > 1) {
            ArrayNode a = o.putArray("eos_token_id");
            stops.forEach(a::add);
        }
        int pad = id(md, PAD, vocabSize);
        if (pad >= 0) {
            o.put("pad_token_id", pad);
        }
        return Optional.of(o.toPrettyString() + "\n");
    }

    /** The id under {@code key}, or -1 when absent, "none" or outside the vocabulary. */
    private static int id(GgufMetadata md, String key, int vocabSize) {
        long v = md.getLong(key, -1);
        if (!isToken(v)) {
            return -1;
        }
        if (v >= vocabSize) {
            LOG.log(System.Logger.Level.WARNING, "{0}: {1} = {2} is not below the vocabulary size {3}; not "
                    + "written to {4}", md.file(), key, v, vocabSize, FILE);
            return -1;
        }
        return (int) v;
    }

    /** False for a missing id (-1) and for llama.cpp's "no token", -1 held by a UINT32 field as 0xFFFFFFFF (stories260K's padding id). */
    private static boolean isToken(long v) {
        return v >= 0 && v != 0xFFFF_FFFFL;
    }

    /**
     * {@code tokenizer.ggml.eot_token_id} / {@code eom_token_id} entries for the ids of
     * {@code hfDir/generation_config.json}'s {@code eos_token_id} list that {@code tokenizer} does not
     * already name as eos, eot or eom: each such id, in list order, takes the first of eot, eom that
     * {@code tokenizer} leaves unset (the inverse of {@link #fromGguf}). Ids outside the vocabulary,
     * and ids left over when both keys are taken, are skipped with a warning. Empty when there is no
     * such file or its {@code eos_token_id} is not a list.
     *
     * @throws ConversionException naming the file when it is not a JSON object or a list entry is not an id
     */
    static Map<String, GgufValue> extraStopIds(Path hfDir, Map<String, GgufValue> tokenizer) throws IOException {
        Path file = hfDir.resolve(FILE);
        Map<String, GgufValue> out = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        JsonNode list = read(file).path("eos_token_id");
        if (!list.isArray()) {
            return out; // one id is the tokenizer's eos, which the tokenizer files already give
        }
        GgufMetadata md = new GgufMetadata(hfDir + "'s tokenizer", tokenizer);
        Set<Long> named = new LinkedHashSet<>();
        List<String> free = new ArrayList<>();
        for (String k : STOP_KEYS) {
            long v = md.getLong(k, -1);
            if (isToken(v)) {
                named.add(v);
            } else if (!k.equals(EOS)) {
                free.add(k);
            }
        }
        long vocab = md.findArray("tokenizer.ggml.tokens").map(GgufArray::size).orElse(0);
        for (int i = 0; i < list.size(); i++) {
            JsonNode e = list.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToLong()) {
                throw new ConversionException(file, "field 'eos_token_id[" + i + "]': " + e + " is not a token id");
            }
            long id = e.longValue();
            if (named.contains(id)) {
                continue;
            }
            if (id < 0 || id >= vocab) {
                LOG.log(System.Logger.Level.WARNING, "{0}: eos_token_id[{1}] = {2} is not a token of the "
                        + "{3}-token vocabulary; not kept as a stop id", file, i, id, vocab);
            } else if (free.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "{0}: eos_token_id[{1}] = {2}: eos, eot and eom are all "
                        + "taken and a GGUF has no key for another stop id; not kept", file, i, id);
            } else {
                out.put(free.removeFirst(), GgufValue.uint32(id));
            }
            named.add(id);
        }
        return out;
    }

    private static JsonNode read(Path file) throws IOException {
        if (Files.size(file) > MAX_BYTES) {
            throw new ConversionException(file, "larger than " + MAX_BYTES + " bytes; not a generation config");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new ConversionException(file, "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConversionException(file, "not a JSON object");
        }
        return root;
    }
}
