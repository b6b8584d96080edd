package dev.offramp.loader.gguf;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.ModelFormat;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.tokenizer.GgufTokenizers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The GGUF {@link ModelFormat} (registered for {@link java.util.ServiceLoader}): accepts a regular
 * file starting with the GGUF magic.
 *
 * <pre>{@code
 * try (ModelSource m = new GgufModelFormat().open(Path.of("stories260K.gguf"), null)) {
 *     ModelConfig cfg = m.config();   // llama, dim 64, 5 layers, RopeStyle.NORMAL
 * }
 * }</pre>
 */
public final class GgufModelFormat implements ModelFormat {

    @Override
    public String name() {
        return "gguf";
    }

    @Override
    public boolean accepts(Path path) {
        if (!Files.isRegularFile(path)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(path)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Opens the model; its tokenizer comes from the file's own {@code tokenizer.*} metadata, or from
     * {@code tokenizerOverride} (another GGUF file) when given. A malformed vocabulary is a
     * {@link dev.offramp.loader.tokenizer.TokenizerFormatException} naming the file and key.
     */
    @Override
    public ModelSource open(Path path, Path tokenizerOverride) throws IOException {
        GgufFile gguf = GgufFile.open(path);
        try {
            ModelConfig config = GgufModelConfigs.from(gguf);
            Tokenizer tokenizer = tokenizerOverride == null ? GgufTokenizers.find(gguf).orElse(null)
                    : overrideTokenizer(tokenizerOverride);
            return new GgufModelSource(path, gguf, config, tokenizer);
        } catch (IOException | RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    private Tokenizer overrideTokenizer(Path file) throws IOException {
        if (!accepts(file)) {
            // TODO: tokenizer.json / tokenizer.model overrides, once dev.offramp.loader.tokenizer reads them
            throw new IOException(file + ": tokenizer override must be a GGUF file (tokenizer.json and "
                    + "tokenizer.model overrides are not supported for GGUF models yet)");
        }
        try (GgufFile vocab = GgufFile.open(file)) {
            return GgufTokenizers.find(vocab).orElseThrow(() -> new GgufFormatException(file.toString(),
                    "metadata 'tokenizer.ggml.model'", "the tokenizer override has no vocabulary"));
        }
    }
}
