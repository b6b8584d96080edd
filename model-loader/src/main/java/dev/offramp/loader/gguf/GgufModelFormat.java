package dev.offramp.loader.gguf;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.ModelFormat;
import dev.offramp.core.model.ModelSource;

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

    @Override
    public ModelSource open(Path path, Path tokenizerOverride) throws IOException {
        GgufFile gguf = GgufFile.open(path);
        try {
            ModelConfig config = GgufModelConfigs.from(gguf);
            // TODO(T): build the Tokenizer from the GGUF vocabulary (or tokenizerOverride) once
            // dev.offramp.loader.tokenizer has its GGUF loader.
            return new GgufModelSource(path, gguf, config, null);
        } catch (IOException | RuntimeException e) {
            gguf.close();
            throw e;
        }
    }
}
