package dev.offramp.loader.gguf;

/**
 * A metadata key a caller asked for is missing or has another type than requested. Unchecked: the
 * file itself parsed fine; the caller's expectations about its content did not hold.
 */
public final class GgufMetadataException extends RuntimeException {

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
