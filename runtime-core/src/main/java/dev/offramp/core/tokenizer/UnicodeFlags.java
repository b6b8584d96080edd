package dev.offramp.core.tokenizer;

/**
 * Unicode category flags of a code point, as llama.cpp's pre-tokenizers see them: exactly one of
 * the general-category groups N, L, Z, M, P, S, C (unassigned code points count as C), plus a
 * separate White_Space flag (the 25 code points of the Unicode White_Space property, which is what
 * {@code \s} means in the HF/Python regexes these splitters mirror). Categories come from the JDK's
 * Unicode tables; llama.cpp generates its table from Python's, so only characters assigned in one
 * Unicode version and not the other can differ.
 */
final class UnicodeFlags {
    static final int NUMBER = 1;
    static final int LETTER = 2;
    static final int SEPARATOR = 4;
    static final int ACCENT_MARK = 8;
    static final int PUNCTUATION = 16;
    static final int SYMBOL = 32;
    static final int CONTROL = 64;
    static final int WHITESPACE = 128;

    private static final byte[] BMP = new byte[0x10000];

    static {
        for (int c = 0; c < 0x10000; c++) {
            BMP[c] = (byte) compute(c);
        }
    }

    private UnicodeFlags() {
    }

    static int of(int cp) {
        if (cp >= 0 && cp < 0x10000) {
            return BMP[cp] & 0xFF;
        }
        return cp <= Character.MAX_CODE_POINT && cp >= 0 ? compute(cp) : CONTROL;
    }

    static boolean isWhitespace(int cp) {
        return (of(cp) & WHITESPACE) != 0;
    }

    static boolean isLetter(int cp) {
        return (of(cp) & LETTER) != 0;
    }

    static boolean isNumber(int cp) {
        return (of(cp) & NUMBER) != 0;
    }

    private static boolean whiteSpaceProperty(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F
                || c == 0x205F || c == 0x3000;
    }

    private static int compute(int c) {
        int group = switch (Character.getType(c)) {
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> ACCENT_MARK;
            case Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.CONNECTOR_PUNCTUATION, Character.OTHER_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> SYMBOL;
            default -> CONTROL;
        };
        return group | (whiteSpaceProperty(c) ? WHITESPACE : 0);
    }
}
