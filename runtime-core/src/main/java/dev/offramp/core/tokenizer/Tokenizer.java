package dev.offramp.core.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Text to token ids and back, exactly as the model's reference implementation (llama.cpp / HF)
 * does it. Implementations are immutable and thread-safe.
 *
 * <pre>{@code
 * Tokenizer tok = ...;                                   // from GgufTokenizers / HfTokenizers (model-loader)
 * int[] prompt = tok.encode("Once upon a time", true, false);   // BOS added if the vocab says so
 * Tokenizer.StreamingDecoder out = tok.streamingDecoder();
 * for (int id : generated) System.out.print(out.next(id));
 * System.out.print(out.flush());
 * }</pre>
 */
public interface Tokenizer {

    int vocabSize();

    /**
     * Encodes {@code text}. {@code addSpecial} adds BOS/EOS as the vocabulary's add_bos/add_eos flags
     * say; {@code parseSpecial} matches control tokens such as {@code <|eot_id|>} whole in the input.
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** As {@link #encode(String, boolean, boolean)} for raw bytes, which may be invalid UTF-8 (never throws for that). */
    default int[] encodeUtf8(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        return encode(new String(utf8, StandardCharsets.UTF_8), addSpecial, parseSpecial);
    }

    /** Decodes ids to text; special/control tokens are rendered only when {@code renderSpecial}. */
    String decode(int[] ids, boolean renderSpecial);

    /** A per-stream decoder that holds back incomplete UTF-8 sequences between tokens. */
    StreamingDecoder streamingDecoder();

    /** As {@link #streamingDecoder()}, optionally rendering control tokens as their text. */
    default StreamingDecoder streamingDecoder(boolean renderSpecial) {
        return streamingDecoder();
    }

    /** Beginning-of-sequence id, or -1. */
    int bos();

    /** End-of-sequence id, or -1. */
    int eos();

    /** End-of-turn id ({@code <|eot_id|>}, {@code <|im_end|>}, ...), or -1. */
    default int eot() {
        return -1;
    }

    /** All special ids (BOS, EOS, EOT, EOM, UNK, PAD, SEP; -1 where absent). */
    default SpecialTokens specialTokens() {
        return SpecialTokens.NONE.withBos(bos()).withEos(eos()).withEot(eot());
    }

    /** Whether {@code encode(text, true, ...)} prepends BOS. */
    default boolean addsBos() {
        return false;
    }

    /** Whether {@code encode(text, true, ...)} appends EOS. */
    default boolean addsEos() {
        return false;
    }

    /** True when generating {@code id} ends a turn (EOS, EOT, {@code <|im_end|>}, ...). */
    boolean isEndOfGeneration(int id);

    /** The raw piece of token {@code id} as stored in the vocabulary. */
    String piece(int id);

    /** The stored type of token {@code id}. */
    default TokenType tokenType(int id) {
        return TokenType.NORMAL;
    }

    /** True for tokens that are not rendered unless asked (CONTROL, UNKNOWN). */
    default boolean isControl(int id) {
        return false;
    }

    /** Turns token ids into text one at a time, never splitting a UTF-8 character. */
    interface StreamingDecoder {
        /** The text that became complete with this token (may be empty). */
        String next(int id);

        /** Whatever is held back at the end of the stream (invalid bytes become U+FFFD). */
        String flush();
    }
}
