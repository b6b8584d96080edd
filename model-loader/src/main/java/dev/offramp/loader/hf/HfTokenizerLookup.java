package dev.offramp.loader.hf;

import dev.offramp.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the tokenizer for an HF folder: the override file if given, else {@code tokenizer.json} or
 * {@code tokenizer.model} in the folder.
 */
final class HfTokenizerLookup {

    private static final System.Logger LOG = System.getLogger(HfTokenizerLookup.class.getName());

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
        // The tokenizer loaders (dev.offramp.loader.tokenizer) are not wired in yet; the model loads
        // without one and generation reports the missing tokenizer.
        LOG.log(System.Logger.Level.WARNING, file + ": tokenizer files are not read yet; loading without a tokenizer");
        return Optional.empty();
    }
}
