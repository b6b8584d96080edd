package dev.offramp.loader.convert;

import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufMetadata;
import dev.offramp.loader.gguf.GgufValue;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import dev.offramp.loader.tokenizer.HfTokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded mutation of GGUF byte-level BPE metadata handed to {@link TokenizerJsonWriter}: keys removed
 * or of the wrong type, short arrays, odd token types, duplicate/empty tokens, bad merges, out-of-range
 * special ids, pre names valid and not. Every case either ends in a {@link ConversionException} that
 * names the source and a {@code tokenizer.*} field, or in files that the runtime's tokenizer.json
 * reader loads and that tokenize sample texts exactly as the mutated metadata does in the GGUF reader.
 * Seed: {@code -Dofframp.fuzz.seed}; cases: {@code -Dofframp.fuzz.writerCases} (default 300).
 */
class TokenizerJsonWriterFuzzTest {

    private static final String[] TEXTS = {"Once upon a time", "", " \n\t  x", "héllo wörld 🙂 3333 I'll",
            "<|endoftext|>a<tool>", "aaaaaaaaaaaaaaaaaaaa", "\uFFFD"};
    private static final String[] PRES = {"gpt-2", "llama-bpe", "llama3", "qwen2", "starcoder", "smollm", "default",
            "deepseek-llm", "", "GPT-2"};

    /** The first {@code keep} tokens of llama.cpp's gpt-2 vocabulary, the merges among them, and two added tokens. */
    static Map<String, GgufValue> seed(int keep) throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.model("llama.cpp-vocab/ggml-vocab-gpt-2.gguf"))) {
            String[] all = f.metadata().getStringArray("tokenizer.ggml.tokens");
            String[] tokens = Arrays.copyOf(all, keep + 2);
            tokens[keep] = "<|endoftext|>";
            tokens[keep + 1] = "<tool>";
            int[] types = new int[tokens.length];
            Arrays.fill(types, 1);
            types[keep] = 3;
            types[keep + 1] = 4;
            Set<String> vocab = new HashSet<>(Arrays.asList(tokens).subList(0, keep));
            List<String> merges = new ArrayList<>();
            for (String m : f.metadata().getStringArray("tokenizer.ggml.merges")) {
                int sp = m.indexOf(' ');
                if (vocab.contains(m.substring(0, sp)) && vocab.contains(m.substring(sp + 1))
                        && vocab.contains(m.substring(0, sp) + m.substring(sp + 1))) {
                    merges.add(m);
                }
            }
            Map<String, GgufValue> md = new LinkedHashMap<>();
            md.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
            md.put("tokenizer.ggml.pre", GgufValue.string("gpt-2"));
            md.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings(tokens)));
            md.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(types)));
            md.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings(merges.toArray(String[]::new))));
            md.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(keep));
            md.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(keep));
            return md;
        }
    }

    @Test
    void mutatedMetadataConvertsFaithfullyOrIsRefusedByField(@TempDir Path tmp) throws Exception {
        Map<String, GgufValue> seed = seed(1000);
        long seedValue = Long.getLong("offramp.fuzz.seed", 20261123L);
        int cases = Integer.getInteger("offramp.fuzz.writerCases", 300);
        Random rnd = new Random(seedValue);
        int accepted = 0;
        int refused = 0;
        List<String> problems = new ArrayList<>();
        for (int c = 0; c < cases; c++) {
            Map<String, GgufValue> md = new LinkedHashMap<>(seed);
            List<String> did = new ArrayList<>();
            for (int r = 1 + rnd.nextInt(3); r > 0; r--) {
                did.add(mutate(md, rnd));
            }
            String name = "case" + c + ".gguf";
            TokenizerJsonWriter.Output out;
            try {
                out = TokenizerJsonWriter.toJson(new GgufMetadata(name, md));
            } catch (ConversionException e) {
                refused++;
                if (!e.getMessage().startsWith(name + ": field 'tokenizer.")) {
                    problems.add(did + ": message does not name the source and field: " + e.getMessage());
                }
                continue;
            } catch (RuntimeException e) {
                problems.add(did + ": " + e);
                continue;
            }
            accepted++;
            Path dir = Files.createDirectories(tmp.resolve("c" + c));
            Files.writeString(dir.resolve("tokenizer.json"), out.tokenizerJson());
            Files.writeString(dir.resolve("tokenizer_config.json"), out.tokenizerConfigJson());
            try {
                Tokenizer ours = HfTokenizers.fromFile(dir);
                Tokenizer ref = GgufTokenizers.fromMetadata(md, name);
                for (String text : TEXTS) {
                    for (boolean special : new boolean[] {false, true}) {
                        int[] a = ours.encode(text, special, special);
                        int[] b = ref.encode(text, special, special);
                        if (!Arrays.equals(a, b)) {
                            problems.add(did + ": '" + text + "' special=" + special + " " + Arrays.toString(a)
                                    + " vs GGUF " + Arrays.toString(b));
                        }
                        // documented difference: llama.cpp renders an UNUSED token as nothing, HF as its text
                        if (Arrays.stream(b).noneMatch(id -> typeOf(md, id) == 5)
                                && !ours.decode(b, special).equals(ref.decode(b, special))) {
                            problems.add(did + ": decode of '" + text + "' differs");
                        }
                    }
                }
            } catch (RuntimeException e) {
                problems.add(did + ": written files do not load: " + e);
            }
        }
        System.out.printf("[fuzz] TokenizerJsonWriter seed %d: %d cases, %d written, %d refused%n", seedValue, cases,
                accepted, refused);
        assertThat(problems).isEmpty();
        assertThat(accepted).isGreaterThan(cases / 10);
        assertThat(refused).isGreaterThan(cases / 10);
    }

    private static int typeOf(Map<String, GgufValue> md, int id) {
        GgufValue v = md.get("tokenizer.ggml.token_type");
        return v != null && v.value() instanceof GgufArray a && id < a.size() ? a.int32s()[id] : 1;
    }

    private static String mutate(Map<String, GgufValue> md, Random rnd) {
        List<String> keys = List.of("tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens",
                "tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id",
                "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.unknown_token_id",
                "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token", "tokenizer.chat_template",
                "tokenizer.chat_template.tool_use");
        String key = keys.get(rnd.nextInt(keys.size()));
        String[] tokens = md.get("tokenizer.ggml.tokens") != null && md.get("tokenizer.ggml.tokens").value() instanceof GgufArray a
                && a.elementType() == dev.offramp.loader.gguf.GgufValueType.STRING ? a.strings() : new String[0];
        int op = rnd.nextInt(10);
        switch (op) {
            case 0 -> md.remove(key);
            case 1 -> md.put(key, switch (rnd.nextInt(4)) { // wrong type
                case 0 -> GgufValue.string("x");
                case 1 -> GgufValue.float32(1.5f);
                case 2 -> GgufValue.array(GgufArray.ofInt32s(1, 2, 3));
                default -> GgufValue.bool(true);
            });
            case 2 -> md.put(key, GgufValue.uint32(switch (rnd.nextInt(4)) {
                case 0 -> 0xFFFFFFFFL;
                case 1 -> tokens.length;
                case 2 -> Integer.MAX_VALUE;
                default -> rnd.nextInt(Math.max(1, tokens.length));
            }));
            case 3 -> md.put("tokenizer.ggml.pre", GgufValue.string(PRES[rnd.nextInt(PRES.length)]));
            case 4 -> { // token types: any code, some out of range
                if (md.get("tokenizer.ggml.token_type") != null && md.get("tokenizer.ggml.token_type").value() instanceof GgufArray a
                        && a.elementType() == dev.offramp.loader.gguf.GgufValueType.INT32 && a.size() > 0) {
                    int[] t = a.int32s().clone();
                    for (int i = rnd.nextInt(4); i >= 0; i--) {
                        t[rnd.nextInt(t.length)] = new int[] {0, 1, 2, 3, 4, 5, 6, 7, -1, 99}[rnd.nextInt(10)];
                    }
                    md.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(t)));
                }
            }
            case 5 -> { // bad merges appended
                String[] bad = {"", " ", "a", "a b c", "zz qq", "\u0120 \u0120", "  x", "x  ", "<tool> a", "t he"};
                List<String> m = new ArrayList<>(md.get("tokenizer.ggml.merges") != null
                        && md.get("tokenizer.ggml.merges").value() instanceof GgufArray a
                        && a.elementType() == dev.offramp.loader.gguf.GgufValueType.STRING ? Arrays.asList(a.strings()) : List.of());
                m.add(rnd.nextInt(m.size() + 1), bad[rnd.nextInt(bad.length)]);
                md.put("tokenizer.ggml.merges", GgufValue.array(GgufArray.ofStrings(m.toArray(String[]::new))));
            }
            case 6 -> { // duplicate, empty or odd tokens
                if (tokens.length > 2) {
                    String[] s = tokens.clone();
                    int i = rnd.nextInt(s.length);
                    s[i] = switch (rnd.nextInt(3)) {
                        case 0 -> s[(i + 1) % s.length];
                        case 1 -> "";
                        default -> "[PAD" + i + "]";
                    };
                    md.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings(s)));
                }
            }
            case 7 -> { // trailing padding, as converters add it
                if (tokens.length > 0 && md.get("tokenizer.ggml.token_type") != null
                        && md.get("tokenizer.ggml.token_type").value() instanceof GgufArray a
                        && a.elementType() == dev.offramp.loader.gguf.GgufValueType.INT32 && a.size() == tokens.length) {
                    int n = tokens.length;
                    int pads = 1 + rnd.nextInt(4);
                    String[] s = Arrays.copyOf(tokens, n + pads);
                    int[] t = Arrays.copyOf(a.int32s(), n + pads);
                    for (int i = n; i < n + pads; i++) {
                        s[i] = "[PAD" + i + "]";
                        t[i] = 5;
                    }
                    md.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings(s)));
                    md.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(t)));
                }
            }
            case 8 -> md.put(rnd.nextBoolean() ? "tokenizer.ggml.add_bos_token" : "tokenizer.ggml.add_eos_token",
                    GgufValue.bool(rnd.nextBoolean()));
            default -> md.put(rnd.nextBoolean() ? "tokenizer.chat_template" : "tokenizer.chat_template.tool_use",
                    GgufValue.string("{{ messages }}"));
        }
        return op + ":" + key;
    }
}
