package dev.offramp.loader.tokenizer;

import dev.offramp.core.tokenizer.TokenType;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.core.tokenizer.TokenizerBuilder;
import dev.offramp.core.tokenizer.Vocabulary;
import dev.offramp.loader.gguf.GgufFile;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * Builds the {@link Tokenizer} described by a GGUF file's {@code tokenizer.*} metadata, as llama.cpp's
 * {@code llama_vocab::load} reads it ({@code tokenizer.ggml.model} "llama" = SentencePiece BPE,
 * "gpt2" = byte-level BPE with {@code .pre} selecting the word splitter).
 *
 * <pre>{@code
 * try (GgufFile f = GgufFile.open(path)) {
 *     Tokenizer tok = GgufTokenizers.fromMetadata(f.metadata().plainMap(), path.toString());
 *     int[] ids = tok.encode("Hello world", true, false);
 * }
 * }</pre>
 */
public final class GgufTokenizers {
    private GgufTokenizers() {
    }

    /**
     * @param metadata   GGUF key/values (GgufValue, plain values or GgufArray, Java arrays or lists)
     * @param sourceName the file, for messages
     * @throws TokenizerFormatException when the metadata has no usable vocabulary, a field has the
     *                                  wrong type, or the tokenizer type is not supported
     */
    public static Tokenizer fromMetadata(Map<String, ?> metadata, String sourceName) {
        return find(metadata, sourceName).orElseThrow(() -> new TokenizerFormatException(sourceName,
                "tokenizer.ggml.model", "missing (the file has no vocabulary)"));
    }

    /** The tokenizer, or empty when the file has no vocabulary (no {@code tokenizer.ggml.model}, or "none"). */
    public static Optional<Tokenizer> find(Map<String, ?> metadata, String sourceName) {
        MetadataValues md = new MetadataValues(metadata, sourceName);
        String model = md.string("tokenizer.ggml.model", null);
        if (model == null || model.equals("none") || model.equals("no_vocab")) {
            return Optional.empty();
        }
        String[] tokens = md.strings("tokenizer.ggml.tokens");
        if (tokens == null) {
            throw new TokenizerFormatException(sourceName, "tokenizer.ggml.tokens", "missing (cannot find tokenizer vocab)");
        }
        float[] scores = md.floats("tokenizer.ggml.scores");
        if (scores != null && scores.length < tokens.length) {
            throw new TokenizerFormatException(sourceName, "tokenizer.ggml.scores",
                    scores.length + " scores for " + tokens.length + " tokens");
        }
        int[] codes = md.ints("tokenizer.ggml.token_type");
        TokenType[] types = null;
        if (codes != null) {
            if (codes.length < tokens.length) {
                throw new TokenizerFormatException(sourceName, "tokenizer.ggml.token_type",
                        codes.length + " types for " + tokens.length + " tokens");
            }
            types = new TokenType[tokens.length];
            for (int i = 0; i < types.length; i++) {
                types[i] = TokenType.fromCode(codes[i]);
            }
        }
        Vocabulary vocab;
        try {
            vocab = Vocabulary.of(tokens, scores, types);
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(sourceName, "tokenizer.ggml.tokens", e.getMessage(), e);
        }
        TokenizerBuilder b;
        switch (model) {
            case "llama" -> b = TokenizerBuilder.spm(vocab);
            case "gpt2" -> {
                String[] merges = md.strings("tokenizer.ggml.merges");
                if (merges == null) {
                    throw new TokenizerFormatException(sourceName, "tokenizer.ggml.merges", "missing (a gpt2 vocabulary needs merges)");
                }
                String pre = md.string("tokenizer.ggml.pre", null);
                try {
                    b = TokenizerBuilder.bpe(vocab, Arrays.asList(merges), pre);
                } catch (IllegalArgumentException e) {
                    throw new TokenizerFormatException(sourceName, "tokenizer.ggml.pre", e.getMessage(), e);
                }
            }
            default -> throw new TokenizerFormatException(sourceName, "tokenizer.ggml.model",
                    "unsupported tokenizer '" + model + "' (supported: llama, gpt2)");
        }
        b.source(sourceName).modelName(md.string("general.name", ""));
        // 0xFFFFFFFF ("none" in converters) keeps llama.cpp's default, as llama.cpp does for any out-of-range id
        Integer v;
        if ((v = md.id("tokenizer.ggml.bos_token_id")) != null && v != -1) b.bos(v);
        if ((v = md.id("tokenizer.ggml.eos_token_id")) != null && v != -1) b.eos(v);
        if ((v = md.id("tokenizer.ggml.eot_token_id")) != null && v != -1) b.eot(v);
        if ((v = md.id("tokenizer.ggml.eom_token_id")) != null && v != -1) b.eom(v);
        if ((v = md.id("tokenizer.ggml.unknown_token_id")) != null && v != -1) b.unk(v);
        if ((v = md.id("tokenizer.ggml.padding_token_id")) != null && v != -1) b.pad(v);
        if ((v = md.id("tokenizer.ggml.seperator_token_id")) != null && v != -1) b.sep(v);
        Boolean f;
        if ((f = md.bool("tokenizer.ggml.add_bos_token")) != null) b.addBos(f);
        if ((f = md.bool("tokenizer.ggml.add_eos_token")) != null) b.addEos(f);
        if ((f = md.bool("tokenizer.ggml.add_space_prefix")) != null) b.addSpacePrefix(f);
        // tokenizer.ggml.remove_extra_whitespaces only matters to llama.cpp's unigram (T5) tokenizer: ignored
        try {
            return Optional.of(b.build());
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(sourceName, "tokenizer.ggml.add_bos_token", e.getMessage(), e);
        }
    }

    /** Convenience for an open file. */
    public static Optional<Tokenizer> find(GgufFile file) {
        return find(file.metadata().entries(), file.name());
    }

    /** {@code tokenizer.chat_template}, if present. */
    public static Optional<String> chatTemplate(Map<String, ?> metadata, String sourceName) {
        return Optional.ofNullable(new MetadataValues(metadata, sourceName).string("tokenizer.chat_template", null));
    }
}
