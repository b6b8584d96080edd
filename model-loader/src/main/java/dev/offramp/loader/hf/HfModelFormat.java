package dev.offramp.loader.hf;

import dev.offramp.core.model.ModelFormat;
import dev.offramp.core.model.ModelSource;
import dev.offramp.loader.safetensors.SafetensorsCheckpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link ModelFormat} for Hugging Face model folders: {@code config.json} plus
 * {@code model.safetensors} or {@code model.safetensors.index.json} with its shards. A path to one
 * of those files inside such a folder is accepted too.
 *
 * <pre>{@code
 * ModelFormat f = new HfModelFormat();
 * if (f.accepts(dir)) try (ModelSource src = f.open(dir, null)) { ... }
 * }</pre>
 */
public final class HfModelFormat implements ModelFormat {

    @Override
    public String name() {
        return "safetensors";
    }

    @Override
    public boolean accepts(Path path) {
        Path dir = folder(path);
        return dir != null && Files.isRegularFile(dir.resolve(HfModelSource.CONFIG_FILE))
                && SafetensorsCheckpoint.present(dir);
    }

    @Override
    public ModelSource open(Path path, Path tokenizerOverride) throws IOException {
        Path dir = folder(path);
        if (dir == null || !accepts(dir)) {
            throw new HfFormatException(path, "not an HF model folder (needs config.json and "
                    + SafetensorsCheckpoint.SINGLE_FILE + " or " + SafetensorsCheckpoint.INDEX_FILE + ")");
        }
        return HfModelSource.open(dir, tokenizerOverride);
    }

    private static Path folder(Path path) {
        if (Files.isDirectory(path)) {
            return path;
        }
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        if (Files.isRegularFile(path) && (name.equals(HfModelSource.CONFIG_FILE) || name.endsWith(".safetensors")
                || name.equals(SafetensorsCheckpoint.INDEX_FILE))) {
            return path.toAbsolutePath().getParent();
        }
        return null;
    }
}
