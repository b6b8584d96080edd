package dev.offramp.loader.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file (or shard index) that is not what the format promises. The message always
 * names the file and, where one is to blame, the tensor or header field.
 */
public final class SafetensorsFormatException extends IOException {

    public SafetensorsFormatException(Path file, String what) {
        super(file + ": " + what);
    }

    public SafetensorsFormatException(Path file, String what, Throwable cause) {
        super(file + ": " + what, cause);
    }
}
