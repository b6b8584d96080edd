package dev.offramp.loader.hf;

import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import dev.offramp.loader.tokenizer.HfTokenizers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Finds the tokenizer for an HF folder: the override file if given, else {@code tokenizer.json} or
 * {@code tokenizer.model} in the folder. A GGUF override lends its {@code tokenizer.*} metadata
 * (how the HF copies of the stories models get their SentencePiece vocabulary).
 */
final class HfTokenizerLookup {

    private static final byte[] GGUF_MAGIC = {'G', 'G', 'U', 'F'};

    private HfTokenizerLookup() {
    }

    static Optional<Tokenizer> find(Path dir, Path override) throws IOException {
        Path file = override;
        if (file == null) {
            for (String name : new String[]{"tokenizer.json", "tokenizer.model"}) {
                if (Files.isRegularFile(dir.resolve(name))) {
                    file = dir.resolve(name);
                    break;
                }
            }
        }
        if (file == null) {
            return Optional.empty();
        }
        if (!Files.isRegularFile(file)) {
            throw new HfFormatException(file, "tokenizer file not found");
        }
        if (isGguf(file)) {
            try (GgufFile gguf = GgufFile.open(file)) {
                Optional<Tokenizer> tok = GgufTokenizers.find(gguf);
                if (tok.isEmpty()) {
                    throw new HfFormatException(file, "GGUF given as tokenizer has no tokenizer.ggml.model vocabulary");
                }
                return tok;
            } catch (RuntimeException e) {
                throw new HfFormatException(file, "tokenizer: " + e.getMessage(), e);
            }
        }
        try {
            return Optional.of(HfTokenizers.fromFile(file));
        } catch (RuntimeException e) {
            throw new HfFormatException(file, "tokenizer: " + e.getMessage(), e);
        }
    }

    private static boolean isGguf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return Arrays.equals(in.readNBytes(4), GGUF_MAGIC);
        }
    }
}
