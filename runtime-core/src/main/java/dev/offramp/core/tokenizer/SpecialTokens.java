package dev.offramp.core.tokenizer;

/**
 * Ids of the vocabulary's special tokens; -1 where the vocabulary has none.
 *
 * @param bos beginning of sequence
 * @param eos end of sequence
 * @param eot end of turn ({@code <|eot_id|>}, {@code <|im_end|>}, {@code <|end|>}, ...)
 * @param eom end of message ({@code <|eom_id|>})
 * @param unk unknown
 * @param pad padding
 * @param sep separator
 */
public record SpecialTokens(int bos, int eos, int eot, int eom, int unk, int pad, int sep) {

    public static final SpecialTokens NONE = new SpecialTokens(-1, -1, -1, -1, -1, -1, -1);

    public SpecialTokens withBos(int id) {
        return new SpecialTokens(id, eos, eot, eom, unk, pad, sep);
    }

    public SpecialTokens withEos(int id) {
        return new SpecialTokens(bos, id, eot, eom, unk, pad, sep);
    }

    public SpecialTokens withEot(int id) {
        return new SpecialTokens(bos, eos, id, eom, unk, pad, sep);
    }

    public SpecialTokens withEom(int id) {
        return new SpecialTokens(bos, eos, eot, id, unk, pad, sep);
    }

    public SpecialTokens withUnk(int id) {
        return new SpecialTokens(bos, eos, eot, eom, id, pad, sep);
    }

    public SpecialTokens withPad(int id) {
        return new SpecialTokens(bos, eos, eot, eom, unk, id, sep);
    }

    public SpecialTokens withSep(int id) {
        return new SpecialTokens(bos, eos, eot, eom, unk, pad, id);
    }
}
