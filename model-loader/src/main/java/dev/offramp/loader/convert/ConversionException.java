package dev.offramp.loader.convert;

import java.io.IOException;
import java.nio.file.Path;

/** A model that cannot be converted as asked (unsupported architecture or type, missing tokenizer, ...). */
public final class ConversionException extends IOException {

    public ConversionException(Path file, String message) {
        super(file + ": " + message);
    }
}
