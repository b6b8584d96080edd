package dev.offramp.loader.tokenizer;

import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Bad and pathological input: no exceptions, no quadratic blow-ups (a regex with a backtracking
 * {@code \s} or a quadratic BPE merge loop shows up here first), exact streaming decode.
 */
class TokenizerRobustnessTest {
    static Tokenizer stories;
    static Tokenizer llamaSpm;
    static Tokenizer llama3;
    static Tokenizer gpt2;
    static Tokenizer deepseekLlm;

    static Tokenizer load(String rel) throws IOException {
        Path p = Fixtures.model(rel);
        try (GgufFile f = GgufFile.open(p)) {
            return GgufTokenizers.fromMetadata(f.metadata().entries(), rel);
        }
    }

    @BeforeAll
    static void loadAll() throws IOException {
        stories = load("stories260K.gguf");
        llamaSpm = load("llama.cpp-vocab/ggml-vocab-llama-spm.gguf");
        llama3 = load("random/tiny-llama3-vocab.gguf");
        gpt2 = load("llama.cpp-vocab/ggml-vocab-gpt-2.gguf");
        deepseekLlm = load("llama.cpp-vocab/ggml-vocab-deepseek-llm.gguf");
    }

    static List<Tokenizer> all() {
        return List.of(stories, llamaSpm, llama3, gpt2, deepseekLlm);
    }

    @Test
    void storiesOnceUponATimeMatchesLlamaCpp() {
        assertThat(stories.encode("Once upon a time", false, false)).containsExactly(403, 407, 261, 378);
        assertThat(stories.encode("Once upon a time", true, false)).containsExactly(1, 403, 407, 261, 378);
        assertThat(stories.addsBos()).isTrue();
        assertThat(stories.bos()).isEqualTo(1);
        assertThat(stories.eos()).isEqualTo(2);
        assertThat(stories.isEndOfGeneration(2)).isTrue();
        assertThat(stories.decode(new int[]{403, 407, 261, 378}, false)).isEqualTo("Once upon a time");
        // llama_detokenize(remove_special) drops the BOS and then keeps the prefix space: llama.cpp's rule
        assertThat(stories.decode(new int[]{1, 403, 407, 261, 378}, false)).isEqualTo(" Once upon a time");
        assertThat(stories.decode(new int[]{1, 403, 407, 261, 378}, true)).isEqualTo("<s> Once upon a time");
    }

    @Test
    void emptyInput() {
        for (Tokenizer t : all()) {
            assertThat(t.encode("", false, false)).as("%s", t).isEmpty();
            assertThat(t.encode("", false, true)).as("%s", t).isEmpty();
            assertThat(t.decode(new int[0], false)).isEmpty();
        }
        assertThat(stories.encode("", true, false)).containsExactly(1);
        assertThat(llama3.encode("", true, false)).containsExactly(128000);
        assertThat(gpt2.encode("", true, false)).isEmpty(); // gpt-2: no add_bos
    }

    @Test
    void invalidUtf8NeverThrows() {
        byte[][] inputs = {
                {(byte) 0xFF}, {(byte) 0xC3}, {(byte) 0xE2, (byte) 0x96}, {'a', (byte) 0x80, 'b'},
                {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                {(byte) 0xF7, (byte) 0xBF, (byte) 0xBF, (byte) 0xBF}, {0, 0, 0},
        };
        for (Tokenizer t : all()) {
            for (byte[] in : inputs) {
                int[] ids = t.encodeUtf8(in, true, true);
                assertThat(ids).as("%s", t).isNotNull();
                for (int id : ids) {
                    assertThat(id).isBetween(0, t.vocabSize() - 1);
                }
                t.decode(ids, false);
            }
        }
        // SPM keeps the raw bytes through byte fallback: <0xFF> is id 3 + 0xFF
        assertThat(llamaSpm.encodeUtf8(new byte[]{(byte) 0xFF}, false, false)).containsExactly(29871, 3 + 0xFF);
        // a lone surrogate in a Java string becomes '?' when encoded to UTF-8, as String.getBytes does
        assertThat(llama3.encode("\uD800", false, false)).containsExactly(llama3.encode("?", false, false));
    }

    @Test
    void unknownAndPartialSpecialTokensAreText() {
        // not a token in this vocabulary: plain text whether or not specials are parsed
        int[] a = llama3.encode("<|im_start|>user", false, true);
        int[] b = llama3.encode("<|im_start|>user", false, false);
        assertThat(a).containsExactly(b);
        assertThat(llama3.decode(a, false)).isEqualTo("<|im_start|>user");
        // real control tokens: matched whole only when asked
        assertThat(llama3.encode("<|eot_id|>", false, true)).containsExactly(128009);
        assertThat(llama3.encode("<|eot_id|>", false, false)).hasSizeGreaterThan(1);
        assertThat(llama3.encode("<|eot_id|", false, true)).doesNotContain(128009);
        int[] chat = llama3.encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", true, true);
        assertThat(chat).startsWith(128000, 128006).endsWith(128009).contains(128007);
        assertThat(llama3.decode(chat, true)).isEqualTo("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
        assertThat(llama3.decode(chat, false)).isEqualTo("user\n\nHi");
        assertThat(llama3.isEndOfGeneration(128009)).isTrue();
        assertThat(llama3.isEndOfGeneration(128001)).isTrue();
        assertThat(llama3.eot()).isEqualTo(128009);
        // SPM: a control token in the text, and a space prefix after it
        int[] hello = llamaSpm.encode("Hello", false, false);
        int[] withBos = java.util.stream.IntStream.concat(java.util.stream.IntStream.of(1), java.util.Arrays.stream(hello)).toArray();
        assertThat(llamaSpm.encode("<s>Hello", false, true)).containsExactly(withBos);
        assertThatThrownBy(() -> llama3.decode(new int[]{llama3.vocabSize()}, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the vocabulary");
    }

    @Test
    void specialTokensSplitTheTextIntoIndependentlyEncodedFragments() {
        // with parseSpecial, text between control tokens is encoded as if it stood alone
        Random r = new Random(11);
        String[] specials = {"<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|begin_of_text|>", "<|python_tag|>"};
        String[] plain = {"Hello", " world", "\n\n", "<|", "|>", "<", "🦙", " 42", "user", "<|eot_id", "x"};
        for (int trial = 0; trial < 300; trial++) {
            StringBuilder text = new StringBuilder();
            for (int k = r.nextInt(7); k > 0; k--) {
                if (r.nextBoolean()) {
                    String sp = specials[r.nextInt(specials.length)];
                    text.append(sp);
                } else {
                    StringBuilder p = new StringBuilder();
                    for (int j = 1 + r.nextInt(3); j > 0; j--) {
                        p.append(plain[r.nextInt(plain.length)]);
                    }
                    // a plain run must not itself spell a special token
                    if (p.toString().contains("<|eot_id|>")) {
                        continue;
                    }
                    text.append(p);
                }
            }
            // the expectation: cut at the leftmost special piece, encode the plain runs alone
            List<Integer> exp = new ArrayList<>();
            String s = text.toString();
            int pos = 0;
            while (pos < s.length()) {
                int best = -1;
                String which = null;
                for (String sp : specials) {
                    int at = s.indexOf(sp, pos);
                    if (at >= 0 && (best < 0 || at < best)) {
                        best = at;
                        which = sp;
                    }
                }
                int end = best < 0 ? s.length() : best;
                if (end > pos) {
                    for (int id : llama3.encode(s.substring(pos, end), false, false)) {
                        exp.add(id);
                    }
                }
                if (best < 0) {
                    break;
                }
                exp.add(llama3.encode(which, false, true)[0]);
                pos = best + which.length();
            }
            assertThat(llama3.encode(s, false, true)).as("'%s'", s)
                    .containsExactly(exp.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void streamingDecoderHoldsBackPartialCharacters() {
        String text = "Hello 🦙 wörld — 我想在apple工作 😁!";
        for (Tokenizer t : List.of(llama3, gpt2, llamaSpm, deepseekLlm)) {
            int[] ids = t.encode(text, false, false);
            Tokenizer.StreamingDecoder d = t.streamingDecoder();
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                String part = d.next(id);
                assertThat(part).as("%s never emits a broken character", t).doesNotContain("\uFFFD");
                sb.append(part);
            }
            sb.append(d.flush());
            String expected = t == llamaSpm ? " " + text : text; // per-token pieces keep SPM's prefix space
            assertThat(sb.toString()).as("%s", t).isEqualTo(expected);
        }
        // a dangling half character is flushed as U+FFFD
        Tokenizer.StreamingDecoder d = llama3.streamingDecoder();
        int[] ids = llama3.encode("🦙", false, false);
        assertThat(ids.length).isGreaterThan(1);
        assertThat(d.next(ids[0])).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");
    }

    private static String noSpaces(int bytes, long seed) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder(bytes);
        String alphabet = "etaoinshrdlucmfwypvbgkjqxzETAOIN,.;'-0123456789";
        while (sb.length() < bytes) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void oneMegabyteWithoutSpacesIsFast() {
        // the required case is 1 MiB without spaces; the other shapes (one repeated letter, one long
        // space run, CJK) stress other paths at a quarter of the size to keep the suite fast
        List<String> inputs = new ArrayList<>();
        inputs.add(noSpaces(1 << 20, 42));
        inputs.add("a".repeat(1 << 18));
        inputs.add(" ".repeat(1 << 18) + "x");
        inputs.add("\u6211".repeat(1 << 16)); // 3 bytes each
        for (Tokenizer t : all()) {
            for (String in : inputs) {
                long t0 = System.nanoTime();
                int[] ids = t.encode(in, false, false);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("[tokenizer blow-up] %-60s %-14s %8d tokens in %.2f s%n", t, in.substring(0, 3).replace(" ", "_"),
                        ids.length, s);
                assertThat(s).as("%s on %s...", t, in.substring(0, 3)).isLessThan(10.0);
                assertThat(ids).isNotEmpty();
            }
        }
    }

    @Test
    void roundTripsOfRandomText() {
        Random r = new Random(7);
        String[] parts = {"Hello", " world", "\n", "  ", "\t", "🦙", "é", "ß", "我想", "123", "4567", "'s", " 've", "!!",
                "<|eot_id|>", "<s>", "\u00A0", "\r\n", "Ĳ", "ðŁ", "---", " ?"};
        for (int trial = 0; trial < 300; trial++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(12);
            for (int i = 0; i < n; i++) {
                sb.append(parts[r.nextInt(parts.length)]);
            }
            String s = sb.toString();
            for (Tokenizer t : List.of(llamaSpm, deepseekLlm)) { // no clean-up of spaces in these two
                assertThat(t.decode(t.encode(s, false, false), false)).as("%s '%s'", t, s).isEqualTo(s);
            }
        }
    }
}
