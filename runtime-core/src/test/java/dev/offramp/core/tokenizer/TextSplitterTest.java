package dev.offramp.core.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hand-written GPT-2 / Llama 3 scanners and the range-table class step must split exactly like
 * the regex engine running the same rules on llama.cpp's collapsed text. This also validates the
 * collapsed-regex machinery that the Qwen2/Qwen3.5 rules run on (no Qwen vocabulary is available to
 * check those end to end).
 */
class TextSplitterTest {
    private static final String[] PIECES = {"a", "Z", "é", "ß", "Ω", "я", "中", "文", "🦙", "😁", "1", "23", "٣", "½",
            " ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "\u2028", "'s", "'T", "'re", "'LL", "'d", "'x", "'",
            "!", "?", "...", "$", "+", "<", "=", "^", "`", "|", "~", "-", "_", "\u0301", "\u200D", "\u0000", "\uFFFD",
            "Hello", " world", "\uE000"};

    private static int[] cps(String s) {
        return s.codePoints().toArray();
    }

    private static String randomText(Random r) {
        StringBuilder sb = new StringBuilder();
        for (int n = r.nextInt(25); n > 0; n--) {
            sb.append(PIECES[r.nextInt(PIECES.length)]);
        }
        return sb.toString();
    }

    private static void sameSplits(List<String> regexes, long seed) {
        TextSplitter fast = TextSplitter.of(regexes, true);
        TextSplitter engine = TextSplitter.of(regexes, false);
        Random r = new Random(seed);
        for (int i = 0; i < 3000; i++) {
            String s = randomText(r);
            int[] a = fast.split(cps(s));
            int[] b = engine.split(cps(s));
            assertThat(a).as("'%s' under %s", s, regexes).isEqualTo(b);
            assertThat(Arrays.stream(a).sum()).isEqualTo(cps(s).length);
        }
    }

    @Test
    void llama3ScannerEqualsRegex() {
        sameSplits(List.of(TextSplitter.LLAMA3), 1);
    }

    @Test
    void gpt2ScannerEqualsRegexPlusWhitespaceFallback() {
        // llama.cpp's GPT-2 scanner also implements a trailing "\s+" alternative; gaps the regex leaves
        // are whitespace runs that the scanner emits as the same pieces
        sameSplits(List.of(TextSplitter.GPT2 + "|\\s+"), 2);
    }

    @Test
    void deepseekClassStepsEqualRegex() {
        sameSplits(PreTokenizer.DEEPSEEK_LLM.regexes(), 3);
        sameSplits(PreTokenizer.DEEPSEEK_CODER.regexes(), 4);
    }

    @Test
    void qwenRulesSplitDigitsSingly() {
        TextSplitter q = TextSplitter.of(PreTokenizer.QWEN2.regexes());
        assertThat(q.split(cps("abc 12345"))).containsExactly(3, 1, 1, 1, 1, 1, 1);
        assertThat(q.split(cps("Hello world's\n\n  x"))).containsExactly(5, 6, 2, 2, 1, 2);
        TextSplitter l3 = TextSplitter.of(PreTokenizer.LLAMA3.regexes());
        assertThat(l3.split(cps("12345"))).containsExactly(3, 2);
    }

    @Test
    void collapseRewritesCategories() {
        assertThat(TextSplitter.collapse("\\p{N}+")).isEqualTo("[\u00D10-9]+");
        assertThat(TextSplitter.collapse("[^\\s\\p{L}]")).isEqualTo("[^\\s\u00D2A-Za-z]");
    }
}
