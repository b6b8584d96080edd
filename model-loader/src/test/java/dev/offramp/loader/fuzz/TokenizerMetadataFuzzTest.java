package dev.offramp.loader.fuzz;

import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.gguf.GgufValueType;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import dev.offramp.loader.tokenizer.TokenizerFormatException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded mutation of the metadata handed to {@link GgufTokenizers#fromMetadata}: values of the
 * wrong type, short or empty arrays, huge and negative ids, duplicate and empty tokens, bad merges,
 * unknown pre-tokenizers. Every case ends in a working tokenizer (which then encodes and decodes
 * text without error) or a {@link TokenizerFormatException} naming the source and the key.
 */
class TokenizerMetadataFuzzTest {

    private static final List<String> KEYS = List.of("tokenizer.ggml.model", "tokenizer.ggml.tokens",
            "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.pre",
            "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
            "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_bos_token",
            "tokenizer.ggml.add_eos_token", "tokenizer.ggml.add_space_prefix");
    private static final String[] TEXTS = {"Once upon a time", "", " \n\t ", "héllo wörld 🙂", "<s></s><unk>",
            "<|endoftext|>", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\u0000\uFFFD"};

    @Test
    void mutatedTokenizerMetadata() throws Exception {
        List<Map<String, GgufValue>> seeds = List.of(tokenizerKeys("stories260K.gguf", 0),
                tokenizerKeys("llama.cpp-vocab/ggml-vocab-gpt-2.gguf", 1256));
        for (Map<String, GgufValue> s : seeds) {
            GgufTokenizers.fromMetadata(s, "seed").encode("Once upon a time", true, false);
        }
        FuzzRun run = new FuzzRun("gguf-tokenizer-metadata").run(2500, 250, Duration.ofSeconds(30), (rnd, name) -> {
            Map<String, GgufValue> md = new LinkedHashMap<>(seeds.get(rnd.nextInt(seeds.size())));
            for (int r = 1 + rnd.nextInt(2); r > 0; r--) {
                mutate(md, rnd);
            }
            Tokenizer tok = GgufTokenizers.fromMetadata(md, name);
            // a tokenizer that was accepted must also work
            for (int i = 0; i < 2; i++) {
                String text = TEXTS[rnd.nextInt(TEXTS.length)];
                int[] ids = tok.encode(text, rnd.nextBoolean(), rnd.nextBoolean());
                tok.decode(ids, rnd.nextBoolean());
                Tokenizer.StreamingDecoder d = tok.streamingDecoder();
                for (int id : ids) {
                    d.next(id);
                }
                d.flush();
            }
        }, t -> t instanceof TokenizerFormatException e && e.field() != null && !e.field().isEmpty());
        assertThat(run.rejected()).isGreaterThan(run.accepted() / 4);
        assertThat(run.accepted()).isPositive();
    }

    /** The file's tokenizer keys; for a large BPE vocabulary only the first {@code keep} tokens and their merges. */
    private static Map<String, GgufValue> tokenizerKeys(String rel, int keep) throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.model(rel))) {
            Map<String, GgufValue> md = new LinkedHashMap<>();
            f.metadata().entries().forEach((k, v) -> {
                if (k.startsWith("tokenizer.") && !k.equals("tokenizer.chat_template")) {
                    md.put(k, v);
                }
            });
            if (keep > 0) {
                String[] tokens = Arrays.copyOf(md.get("tokenizer.ggml.tokens").value() instanceof GgufArray a
                        ? a.strings() : new String[0], keep);
                md.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings(tokens)));
                for (String k : List.of("tokenizer.ggml.scores", "tokenizer.ggml.token_type")) {
                    GgufValue v = md.get(k);
                    if (v != null && v.value() instanceof GgufArray a) {
                        md.put(k, GgufValue.array(a.elementType() == GgufValueType.FLOAT32
                                ? GgufArray.ofFloats(Arrays.copyOf(a.floats(), keep))
                                : GgufArray.ofInt32s(Arrays.copyOf(a.int32s(), keep))));
                    }
                }
                java.util.Set<String> vocab = new java.util.HashSet<>(Arrays.asList(tokens));
                List<String> merges = new ArrayList<>();
                for (String m : ((GgufArray) md.get("tokenizer.ggml.merges").value()).strings()) {
                    int sp = m.indexOf(' ');
                    if (sp > 0 && vocab.contains(m.substring(0, sp)) && vocab.contains(m.substring(sp + 1))
                            && vocab.contains(m.substring(0, sp) + m.substring(sp + 1))) {
                        merges.add(m);
                    }
                }
                md.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings(merges.toArray(String[]::new))));
                for (String k : List.of("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id")) {
                    if (md.containsKey(k)) {
                        md.put(k, GgufValue.uint32(0));
                    }
                }
            }
            return md;
        }
    }

    private static void mutate(Map<String, GgufValue> md, Random rnd) {
        String key = KEYS.get(rnd.nextInt(KEYS.size()));
        GgufValue old = md.get(key);
        int size = md.get("tokenizer.ggml.tokens") != null && md.get("tokenizer.ggml.tokens").value() instanceof GgufArray a
                ? a.size() : 0;
        switch (rnd.nextInt(9)) {
            case 0 -> md.remove(key);
            case 1 -> md.put(key, wrongType(rnd));
            case 2 -> md.put(key, GgufValue.uint32(switch (rnd.nextInt(5)) {
                case 0 -> 0xFFFFFFFFL;
                case 1 -> size;
                case 2 -> Integer.MAX_VALUE;
                case 3 -> 1L << 31;
                default -> rnd.nextInt(Math.max(1, size));
            }));
            case 3 -> md.put(key, GgufValue.int32(rnd.nextBoolean() ? -1 : Integer.MIN_VALUE));
            case 4 -> { // short or empty array
                if (old != null && old.value() instanceof GgufArray a) {
                    md.put(key, GgufValue.array(shortened(a, rnd.nextInt(Math.max(1, a.size())))));
                }
            }
            case 5 -> { // bad merges
                String[] bad = {"", " ", "a", "a b c", "zz qq", "\u0120 \u0120", "  x", "x  ", "\uD800 a"};
                String[] merges = new String[1 + rnd.nextInt(8)];
                for (int i = 0; i < merges.length; i++) {
                    merges[i] = bad[rnd.nextInt(bad.length)];
                }
                md.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings(merges)));
            }
            case 6 -> { // duplicate, empty or odd tokens
                GgufValue t = md.get("tokenizer.ggml.tokens");
                if (t != null && t.value() instanceof GgufArray a && a.size() > 2) {
                    String[] s = a.strings().clone();
                    int i = rnd.nextInt(s.length);
                    s[i] = switch (rnd.nextInt(4)) {
                        case 0 -> s[(i + 1) % s.length];
                        case 1 -> "";
                        case 2 -> "<0x" + Integer.toHexString(rnd.nextInt(4096)) + ">";
                        default -> "\uD800";
                    };
                    md.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings(s)));
                }
            }
            case 7 -> { // token types out of range
                GgufValue t = md.get("tokenizer.ggml.token_type");
                if (t != null && t.value() instanceof GgufArray a && a.values() instanceof int[] codes) {
                    int[] c = codes.clone();
                    c[rnd.nextInt(c.length)] = rnd.nextBoolean() ? -7 : 99;
                    md.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(c)));
                }
            }
            default -> md.put(key, GgufValue.string(switch (rnd.nextInt(4)) {
                case 0 -> "bert";
                case 1 -> "";
                case 2 -> "gpt2";
                default -> "llama";
            }));
        }
    }

    private static GgufValue wrongType(Random rnd) {
        return switch (rnd.nextInt(8)) {
            case 0 -> GgufValue.string("x");
            case 1 -> GgufValue.float32(Float.NaN);
            case 2 -> GgufValue.bool(true);
            case 3 -> GgufValue.uint8(255);
            case 4 -> GgufValue.array(GgufArray.ofFloats(1, 2, 3));
            case 5 -> GgufValue.array(GgufArray.ofInt32s(1, 2, 3));
            case 6 -> GgufValue.array(GgufArray.ofStrings("a", "b"));
            default -> GgufValue.array(new GgufArray(GgufValueType.ARRAY, new GgufArray[] {GgufArray.ofStrings("a")}));
        };
    }

    private static GgufArray shortened(GgufArray a, int n) {
        Object v = a.values();
        return switch (v) {
            case String[] s -> GgufArray.ofStrings(Arrays.copyOf(s, n));
            case float[] f -> GgufArray.ofFloats(Arrays.copyOf(f, n));
            case int[] i -> GgufArray.ofInt32s(Arrays.copyOf(i, n));
            default -> a;
        };
    }
}
