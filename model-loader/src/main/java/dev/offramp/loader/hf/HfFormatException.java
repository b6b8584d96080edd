package dev.offramp.loader.hf;

import java.io.IOException;
import java.nio.file.Path;

/** A Hugging Face model folder or {@code config.json} this runtime cannot use; names the file and field. */
public final class HfFormatException extends IOException {

    public HfFormatException(Path file, String what) {
        super(file + ": " + what);
    }

    public HfFormatException(Path file, String what, Throwable cause) {
        super(file + ": " + what, cause);
    }
}
