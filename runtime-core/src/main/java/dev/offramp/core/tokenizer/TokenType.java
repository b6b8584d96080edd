package dev.offramp.core.tokenizer;

/**
 * The kind of a vocabulary entry, with the numeric codes GGUF stores in
 * {@code tokenizer.ggml.token_type} (the SentencePiece/llama.cpp convention).
 *
 * <p>The kind decides how a token is matched and rendered: CONTROL and UNKNOWN tokens are matched
 * whole in the input only when special parsing is on and are rendered only on request;
 * USER_DEFINED tokens are always matched whole and always rendered verbatim; BYTE tokens
 * ({@code <0x0A>}) stand for one raw byte.
 */
public enum TokenType {
    UNDEFINED(0), NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

    private final int code;

    TokenType(int code) {
        this.code = code;
    }

    /** The GGUF code. */
    public int code() {
        return code;
    }

    /** The type for a GGUF code; codes outside 0..6 are UNDEFINED, as llama.cpp treats them. */
    public static TokenType fromCode(int code) {
        return switch (code) {
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> UNDEFINED;
        };
    }

    /** True for tokens rendered only when special tokens are asked for (CONTROL, UNKNOWN). */
    public boolean isSpecial() {
        return this == CONTROL || this == UNKNOWN;
    }
}
