package dev.offramp.core.tokenizer;

/**
 * Text to token ids and back, exactly as the model's reference implementation (llama.cpp / HF)
 * does it. Implementations are immutable and thread-safe.
 */
public interface Tokenizer {

    int vocabSize();

    /**
     * Encodes {@code text}. {@code addSpecial} adds BOS/EOS as the vocabulary's add_bos/add_eos flags
     * say; {@code parseSpecial} matches control tokens such as {@code <|eot_id|>} whole in the input.
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** Decodes ids to text; special/control tokens are rendered only when {@code renderSpecial}. */
    String decode(int[] ids, boolean renderSpecial);

    /** A per-stream decoder that holds back incomplete UTF-8 sequences between tokens. */
    StreamingDecoder streamingDecoder();

    /** Beginning-of-sequence id, or -1. */
    int bos();

    /** End-of-sequence id, or -1. */
    int eos();

    /** True when generating {@code id} ends a turn (EOS, EOT, {@code <|im_end|>}, ...). */
    boolean isEndOfGeneration(int id);

    /** The raw piece of token {@code id} as stored in the vocabulary. */
    String piece(int id);

    /** Turns token ids into text one at a time, never splitting a UTF-8 character. */
    interface StreamingDecoder {
        /** The text that became complete with this token (may be empty). */
        String next(int id);

        /** Whatever is held back at the end of the stream (invalid bytes become U+FFFD). */
        String flush();
    }
}
