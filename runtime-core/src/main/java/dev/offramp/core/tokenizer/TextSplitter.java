package dev.offramp.core.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into pre-tokenizer words the way llama.cpp's {@code unicode_regex_split} does: a chain
 * of regexes, each one cutting every piece from the previous step into its matches <em>and</em> the
 * unmatched gaps between them (nothing is dropped). Offsets are in code points.
 *
 * <p>Three kinds of step, chosen by the regex text exactly as llama.cpp chooses:
 * <ul>
 *   <li>the GPT-2 and Llama 3 regexes run as hand-written scanners (llama.cpp does the same; they
 *       are linear time on any input and define the reference behaviour);</li>
 *   <li>a regex using {@code \p{L}}, {@code \p{N}}, {@code \p{P}}, {@code \p{S}}, {@code \p{M}} runs on a
 *       "collapsed" copy of the text in which every non-ASCII code point became one stand-in
 *       character for its category (U+00D1 number, U+00D2 letter, U+00D3 punctuation, U+00D4 mark,
 *       U+00D5 symbol, U+00D0 other, U+000B whitespace) and the categories in the regex became
 *       classes of the stand-in plus its ASCII members. This is llama.cpp's trick; doing the same
 *       here reproduces its results, including its ASCII-only view of {@code \s};</li>
 *   <li>any other regex runs on the text with non-ASCII whitespace replaced by U+000B; {@code \s+$}
 *       is done by a scanner because a backtracking engine is quadratic on long space runs.</li>
 * </ul>
 * Java's {@code \s} without {@code UNICODE_CHARACTER_CLASS} is {@code [ \t\n\x0B\f\r]}, the same set as
 * the C library's {@code isspace} that llama.cpp's {@code std::regex} uses, so the stand-ins keep
 * whitespace semantics identical.
 */
final class TextSplitter {

    /** The GPT-2 split regex; llama.cpp replaces exactly this string by a scanner. */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    /** The Llama 3 split regex (case-insensitive contractions spelled out); also a scanner. */
    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3_ORIGINAL = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** The Qwen2 split regex (single digits). */
    static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final String[] CATEGORIES = {"\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}"};
    private static final char[] STAND_IN = {'\u00D1', '\u00D2', '\u00D3', '\u00D4', '\u00D5'};
    private static final String[] ASCII_MEMBERS = {
            "0-9",
            "A-Za-z",
            "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
            "",
            "\\$\\+<-=>\\^`\\|",
    };

    private sealed interface Step permits Gpt2Step, Llama3Step, RegexStep, TrailingSpaceStep, ClassRunStep {
    }

    /**
     * {@code [C]+} or {@code \s?[C]+} for a plain class C of characters and ranges: Java's regex
     * engine tests a class with dozens of ranges as a chain of predicates per character, which made
     * DeepSeek's letter class the slowest part of encoding; a sorted range table answers in O(log n).
     */
    private record ClassRunStep(int[] ranges, boolean optionalSpace) implements Step {
        boolean contains(int cp) {
            int lo = 0;
            int hi = ranges.length / 2 - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (cp < ranges[2 * mid]) {
                    hi = mid - 1;
                } else if (cp > ranges[2 * mid + 1]) {
                    lo = mid + 1;
                } else {
                    return true;
                }
            }
            return false;
        }
    }

    private record Gpt2Step() implements Step {
    }

    private record Llama3Step() implements Step {
    }

    private record RegexStep(Pattern pattern, boolean collapsed) implements Step {
    }

    private record TrailingSpaceStep() implements Step {
    }

    private final List<Step> steps;
    private final boolean needsCollapsed;
    private final boolean needsPlain;

    private TextSplitter(List<Step> steps) {
        this.steps = List.copyOf(steps);
        this.needsCollapsed = steps.stream().anyMatch(s -> s instanceof RegexStep r && r.collapsed());
        this.needsPlain = steps.stream().anyMatch(s -> s instanceof RegexStep r && !r.collapsed());
    }

    /** A splitter for llama.cpp-syntax regexes, applied in order. */
    static TextSplitter of(List<String> regexes) {
        return of(regexes, true);
    }

    /** As {@link #of(List)}; without {@code scanners} every regex runs on the regex engine (for differential tests). */
    static TextSplitter of(List<String> regexes, boolean scanners) {
        List<Step> steps = new ArrayList<>();
        for (String rx : regexes) {
            if (!scanners) {
                steps.add(usesCategories(rx) ? new RegexStep(Pattern.compile(collapse(rx)), true) : new RegexStep(Pattern.compile(rx), false));
            } else if (rx.equals(GPT2)) {
                steps.add(new Gpt2Step());
            } else if (rx.equals(LLAMA3) || rx.equals(LLAMA3_ORIGINAL)) {
                steps.add(new Llama3Step());
            } else if (rx.equals("\\s+$")) {
                steps.add(new TrailingSpaceStep());
            } else if (!usesCategories(rx) && classRun(rx) != null) {
                steps.add(classRun(rx));
            } else if (usesCategories(rx)) {
                steps.add(new RegexStep(Pattern.compile(collapse(rx)), true));
            } else {
                steps.add(new RegexStep(Pattern.compile(rx), false));
            }
        }
        return new TextSplitter(steps);
    }

    /** Parses {@code [...]+} / {@code \\s?[...]+} with literal characters, {@code \\x{H}} escapes and ranges; null otherwise. */
    static ClassRunStep classRun(String rx) {
        boolean space = rx.startsWith("\\s?");
        String body = space ? rx.substring(3) : rx;
        if (!body.startsWith("[") || !body.endsWith("]+") || body.startsWith("[^")) {
            return null;
        }
        body = body.substring(1, body.length() - 2);
        java.util.List<Integer> cps = new java.util.ArrayList<>();
        java.util.List<Boolean> dash = new java.util.ArrayList<>();
        for (int i = 0; i < body.length(); ) {
            int cp;
            boolean isDash = false;
            if (body.startsWith("\\x{", i)) {
                int close = body.indexOf('}', i);
                if (close < 0) {
                    return null;
                }
                cp = Integer.parseInt(body.substring(i + 3, close), 16);
                i = close + 1;
            } else if (body.charAt(i) == '\\' || body.charAt(i) == '[' || body.charAt(i) == ']' || body.charAt(i) == '&') {
                return null; // escapes and nested classes: leave to the regex engine
            } else {
                cp = body.codePointAt(i);
                isDash = cp == '-';
                i += Character.charCount(cp);
            }
            cps.add(cp);
            dash.add(isDash);
        }
        java.util.List<int[]> ranges = new java.util.ArrayList<>();
        for (int i = 0; i < cps.size(); i++) {
            if (i + 2 < cps.size() && dash.get(i + 1)) {
                if (cps.get(i) > cps.get(i + 2)) {
                    return null;
                }
                ranges.add(new int[]{cps.get(i), cps.get(i + 2)});
                i += 2;
            } else {
                ranges.add(new int[]{cps.get(i), cps.get(i)});
            }
        }
        ranges.sort((a, b) -> Integer.compare(a[0], b[0]));
        java.util.List<int[]> merged = new java.util.ArrayList<>();
        for (int[] r : ranges) {
            if (!merged.isEmpty() && r[0] <= merged.getLast()[1] + 1) {
                merged.getLast()[1] = Math.max(merged.getLast()[1], r[1]);
            } else {
                merged.add(r.clone());
            }
        }
        int[] flat = new int[merged.size() * 2];
        for (int i = 0; i < merged.size(); i++) {
            flat[2 * i] = merged.get(i)[0];
            flat[2 * i + 1] = merged.get(i)[1];
        }
        return new ClassRunStep(flat, space);
    }

    private static void classRun(ClassRunStep step, int[] cps, IntList in, IntList out) {
        int start = 0;
        for (int k = 0; k < in.size(); k++) {
            int end = start + in.get(k);
            int prev = start;
            int p = start;
            while (p < end) {
                int ms = -1;
                int runFrom = -1;
                if (step.optionalSpace() && UnicodeFlags.isWhitespace(cps[p]) && p + 1 < end && step.contains(plain(cps[p + 1]))) {
                    ms = p;
                    runFrom = p + 1;
                } else if (step.contains(plain(cps[p]))) {
                    ms = p;
                    runFrom = p;
                }
                if (ms < 0) {
                    p++;
                    continue;
                }
                int e = runFrom;
                while (e < end && step.contains(plain(cps[e]))) {
                    e++;
                }
                if (ms > prev) {
                    out.add(ms - prev);
                }
                out.add(e - ms);
                prev = e;
                p = e;
            }
            if (prev < end) {
                out.add(end - prev);
            }
            start = end;
        }
    }

    /** The code point as llama.cpp's wide-string regex sees it: non-ASCII whitespace is U+000B. */
    private static int plain(int cp) {
        return cp > 0x7F && UnicodeFlags.isWhitespace(cp) ? 0x0B : cp;
    }

    private static boolean usesCategories(String rx) {
        for (String c : CATEGORIES) {
            if (rx.contains(c)) {
                return true;
            }
        }
        return false;
    }

    /** Rewrites category escapes into stand-in classes (inside a class: just the members). */
    static String collapse(String rx) {
        StringBuilder sb = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < rx.length(); i++) {
            char c = rx.charAt(i);
            if (c == '[' && (i == 0 || rx.charAt(i - 1) != '\\')) {
                sb.append('[');
                inside = true;
                continue;
            }
            if (inside && c == ']' && rx.charAt(i - 1) != '\\') {
                sb.append(']');
                inside = false;
                continue;
            }
            if (c == '\\' && i + 4 < rx.length() && rx.charAt(i + 1) == 'p' && rx.charAt(i + 2) == '{') {
                int close = rx.indexOf('}', i + 3);
                String cat = close > 0 ? rx.substring(i, close + 1) : "";
                int k = Arrays.asList(CATEGORIES).indexOf(cat);
                if (k < 0 && cat.length() == 7 && cat.startsWith("\\p{L")) {
                    k = 1; // \p{Lu}, \p{Ll}, ...: llama.cpp only knows "letter"
                }
                if (k >= 0) {
                    if (!inside) {
                        sb.append('[');
                    }
                    sb.append(STAND_IN[k]).append(ASCII_MEMBERS[k]);
                    if (!inside) {
                        sb.append(']');
                    }
                    i = close;
                    continue;
                }
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /** Splits {@code cps} into word lengths (code points), summing to {@code cps.length}. */
    int[] split(int[] cps) {
        IntList lengths = new IntList(8);
        if (cps.length == 0) {
            return new int[0];
        }
        lengths.add(cps.length);
        String collapsed = needsCollapsed ? collapsedText(cps) : null;
        PlainText plain = needsPlain ? new PlainText(cps) : null;
        for (Step step : steps) {
            IntList next = new IntList(Math.max(8, lengths.size() * 2));
            switch (step) {
                case Gpt2Step g -> gpt2(cps, lengths, next);
                case Llama3Step l -> llama3(cps, lengths, next);
                case TrailingSpaceStep t -> trailingSpace(cps, lengths, next);
                case ClassRunStep c -> classRun(c, cps, lengths, next);
                case RegexStep r -> {
                    if (r.collapsed()) {
                        regexCollapsed(r.pattern(), collapsed, lengths, next);
                    } else {
                        regexPlain(r.pattern(), plain, lengths, next);
                    }
                }
            }
            lengths = next;
        }
        return lengths.toArray();
    }

    static String collapsedText(int[] cps) {
        char[] out = new char[cps.length];
        for (int i = 0; i < cps.length; i++) {
            int cp = cps[i];
            if (cp < 128) {
                out[i] = (char) cp;
                continue;
            }
            int f = UnicodeFlags.of(cp);
            if ((f & UnicodeFlags.WHITESPACE) != 0) {
                out[i] = '\u000B';
            } else if ((f & UnicodeFlags.NUMBER) != 0) {
                out[i] = STAND_IN[0];
            } else if ((f & UnicodeFlags.LETTER) != 0) {
                out[i] = STAND_IN[1];
            } else if ((f & UnicodeFlags.PUNCTUATION) != 0) {
                out[i] = STAND_IN[2];
            } else if ((f & UnicodeFlags.ACCENT_MARK) != 0) {
                out[i] = STAND_IN[3];
            } else if ((f & UnicodeFlags.SYMBOL) != 0) {
                out[i] = STAND_IN[4];
            } else {
                out[i] = '\u00D0';
            }
        }
        return new String(out);
    }

    /** The text as a Java string (non-ASCII whitespace as U+000B) with a char-to-code-point index map. */
    private static final class PlainText {
        final String text;
        final int[] charToCp; // null when every code point is one char

        PlainText(int[] cps) {
            StringBuilder sb = new StringBuilder(cps.length);
            boolean supplementary = false;
            for (int cp : cps) {
                if (cp > 0x7F && UnicodeFlags.isWhitespace(cp)) {
                    cp = 0x0B;
                }
                if (cp >= 0x10000) {
                    supplementary = true;
                }
                if (cp >= 0xD800 && cp <= 0xDFFF || cp > 0x10FFFF) {
                    cp = 0xFFFD;
                }
                sb.appendCodePoint(cp);
            }
            text = sb.toString();
            if (supplementary) {
                charToCp = new int[text.length() + 1];
                int ci = 0;
                for (int i = 0; i < cps.length; i++) {
                    charToCp[ci++] = i;
                    if (Character.isHighSurrogate(text.charAt(ci - 1)) && ci < text.length()
                            && Character.isLowSurrogate(text.charAt(ci))) {
                        charToCp[ci++] = i;
                    }
                }
                charToCp[text.length()] = cps.length;
            } else {
                charToCp = null;
            }
        }

        int charIndex(int cpIndex) {
            if (charToCp == null) {
                return cpIndex;
            }
            int lo = 0;
            int hi = charToCp.length - 1;
            while (lo < hi) { // first char index whose code point index >= cpIndex
                int mid = (lo + hi) >>> 1;
                if (charToCp[mid] < cpIndex) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        int cpIndex(int charIndex) {
            return charToCp == null ? charIndex : charToCp[charIndex];
        }
    }

    private static void regexCollapsed(Pattern p, String text, IntList in, IntList out) {
        Matcher m = p.matcher(text);
        int start = 0;
        for (int k = 0; k < in.size(); k++) {
            int len = in.get(k);
            int end = start + len;
            m.region(start, end);
            int prev = start;
            while (m.find()) {
                if (m.end() == m.start()) {
                    throw new IllegalStateException("pre-tokenizer regex matched the empty string: " + p);
                }
                if (m.start() > prev) {
                    out.add(m.start() - prev);
                }
                out.add(m.end() - m.start());
                prev = m.end();
            }
            if (prev < end) {
                out.add(end - prev);
            }
            start = end;
        }
    }

    private static void regexPlain(Pattern p, PlainText t, IntList in, IntList out) {
        Matcher m = p.matcher(t.text);
        int start = 0;
        for (int k = 0; k < in.size(); k++) {
            int len = in.get(k);
            int end = start + len;
            m.region(t.charIndex(start), t.charIndex(end));
            int prev = start;
            while (m.find()) {
                if (m.end() == m.start()) {
                    throw new IllegalStateException("pre-tokenizer regex matched the empty string: " + p);
                }
                int ms = t.cpIndex(m.start());
                int me = t.cpIndex(m.end());
                if (ms > prev) {
                    out.add(ms - prev);
                }
                out.add(me - ms);
                prev = me;
            }
            if (prev < end) {
                out.add(end - prev);
            }
            start = end;
        }
    }

    private static void trailingSpace(int[] cps, IntList in, IntList out) {
        int start = 0;
        for (int k = 0; k < in.size(); k++) {
            int end = start + in.get(k);
            int ws = end;
            while (ws > start && UnicodeFlags.isWhitespace(cps[ws - 1])) {
                ws--;
            }
            if (ws > start) {
                out.add(ws - start);
            }
            if (ws < end) {
                out.add(end - ws);
            }
            start = end;
        }
    }

    // ---- scanners for the GPT-2 and Llama 3 regexes -------------------------------------------

    private static final int OUT = -1;

    private static int flagsAt(int[] cps, int pos, int end) {
        return pos < end ? UnicodeFlags.of(cps[pos]) : 0;
    }

    private static int cpAt(int[] cps, int pos, int end) {
        return pos < end ? cps[pos] : OUT;
    }

    private static boolean wordish(int f) {
        return (f & (UnicodeFlags.WHITESPACE | UnicodeFlags.LETTER | UnicodeFlags.NUMBER)) != 0;
    }

    /** {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+} */
    private static void gpt2(int[] cps, IntList in, IntList out) {
        int start = 0;
        for (int k = 0; k < in.size(); k++) {
            final int ini = start;
            final int end = start + in.get(k);
            start = end;
            int pos = ini;
            while (pos < end) {
                int cp = cps[pos];
                int flags = UnicodeFlags.of(cp);
                if (cp == '\'' && pos + 1 < end) {
                    int n1 = cps[pos + 1];
                    if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
                        out.add(2);
                        pos += 2;
                        continue;
                    }
                    if (pos + 2 < end) {
                        int n2 = cps[pos + 2];
                        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
                            out.add(3);
                            pos += 3;
                            continue;
                        }
                    }
                }
                int p = pos;
                int f2 = cp == ' ' ? flagsAt(cps, p + 1, end) : flags;
                if ((f2 & UnicodeFlags.LETTER) != 0) {
                    if (cp == ' ') {
                        p++;
                    }
                    while (p < end && UnicodeFlags.isLetter(cps[p])) {
                        p++;
                    }
                    out.add(p - pos);
                    pos = p;
                    continue;
                }
                if ((f2 & UnicodeFlags.NUMBER) != 0) {
                    if (cp == ' ') {
                        p++;
                    }
                    while (p < end && UnicodeFlags.isNumber(cps[p])) {
                        p++;
                    }
                    out.add(p - pos);
                    pos = p;
                    continue;
                }
                if (!wordish(f2) && f2 != 0) {
                    if (cp == ' ') {
                        p++;
                    }
                    while (p < end && !wordish(UnicodeFlags.of(cps[p]))) {
                        p++;
                    }
                    out.add(p - pos);
                    pos = p;
                    continue;
                }
                int ws = 0;
                while (pos + ws < end && UnicodeFlags.isWhitespace(cps[pos + ws])) {
                    ws++;
                }
                if (ws > 1 && pos + ws < end) {
                    out.add(ws - 1); // \s+(?!\S): leave the last space to prefix the next word
                    pos += ws - 1;
                    continue;
                }
                if (ws > 0) {
                    out.add(ws);
                    pos += ws;
                    continue;
                }
                out.add(1);
                pos++;
            }
        }
    }

    /** The Llama 3 regex; see {@link #LLAMA3}. */
    private static void llama3(int[] cps, IntList in, IntList out) {
        int start = 0;
        for (int k = 0; k < in.size(); k++) {
            final int ini = start;
            final int end = start + in.get(k);
            start = end;
            int pos = ini;
            while (pos < end) {
                int cp = cps[pos];
                int flags = UnicodeFlags.of(cp);
                if (cp == '\'' && pos + 1 < end) {
                    int n1 = Character.toLowerCase(cps[pos + 1]);
                    if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
                        out.add(2);
                        pos += 2;
                        continue;
                    }
                    if (pos + 2 < end) {
                        int n2 = Character.toLowerCase(cps[pos + 2]);
                        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
                            out.add(3);
                            pos += 3;
                            continue;
                        }
                    }
                }
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if (!(cp == '\r' || cp == '\n' || (flags & UnicodeFlags.NUMBER) != 0)) {
                    if ((flags & UnicodeFlags.LETTER) != 0 || (flagsAt(cps, pos + 1, end) & UnicodeFlags.LETTER) != 0) {
                        int p = pos + 1;
                        while (p < end && UnicodeFlags.isLetter(cps[p])) {
                            p++;
                        }
                        out.add(p - pos);
                        pos = p;
                        continue;
                    }
                }
                // \p{N}{1,3}
                if ((flags & UnicodeFlags.NUMBER) != 0) {
                    int p = pos;
                    while (p < end && UnicodeFlags.isNumber(cps[p])) {
                        p++;
                        if (p - pos == 3) {
                            out.add(3);
                            pos = p;
                        }
                    }
                    if (p > pos) {
                        out.add(p - pos);
                    }
                    pos = p;
                    continue;
                }
                //  ?[^\s\p{L}\p{N}]+[\r\n]*
                int f2 = cp == ' ' ? flagsAt(cps, pos + 1, end) : flags;
                if (!wordish(f2)) {
                    int p = pos;
                    if (cp == ' ') {
                        p++;
                    }
                    while (p < end && !wordish(UnicodeFlags.of(cps[p]))) {
                        p++;
                    }
                    while (p < end && (cps[p] == '\r' || cps[p] == '\n')) {
                        p++;
                    }
                    out.add(p - pos);
                    pos = p;
                    continue;
                }
                int ws = 0;
                int lastNewline = -1;
                while (pos + ws < end && UnicodeFlags.isWhitespace(cps[pos + ws])) {
                    int c2 = cps[pos + ws];
                    if (c2 == '\r' || c2 == '\n') {
                        lastNewline = pos + ws + 1;
                    }
                    ws++;
                }
                if (lastNewline > 0) { // \s*[\r\n]+
                    out.add(lastNewline - pos);
                    pos = lastNewline;
                    continue;
                }
                if (ws > 1 && pos + ws < end) { // \s+(?!\S)
                    out.add(ws - 1);
                    pos += ws - 1;
                    continue;
                }
                if (ws > 0) {
                    out.add(ws);
                    pos += ws;
                    continue;
                }
                out.add(1);
                pos++;
            }
        }
    }
}
