package dev.offramp.loader.gguf;

/**
 * A metadata key a caller asked for is missing or has another type than requested. Unchecked, and
 * an {@link IllegalArgumentException} because it is bad input: the file parsed fine, but its content
 * is not what the caller needs.
 */
public final class GgufMetadataException extends IllegalArgumentException {

    private final String file;
    private final String key;

    public GgufMetadataException(String file, String key, String problem) {
        super(file + ": metadata key '" + key + "': " + problem);
        this.file = file;
        this.key = key;
    }

    public String file() {
        return file;
    }

    public String key() {
        return key;
    }
}
