package dev.offramp.loader.gguf;

import java.io.IOException;

/**
 * A GGUF file (or one of its shards) is malformed or unsupported. The message always names the
 * file and the field that is wrong, e.g. {@code model.gguf: tensor 'blk.0.attn_q.weight' offset: ...}.
 */
public final class GgufFormatException extends IOException {

    private final String file;
    private final String field;

    public GgufFormatException(String file, String field, String problem) {
        super(file + ": " + field + ": " + problem);
        this.file = file;
        this.field = field;
    }

    public GgufFormatException(String file, String field, String problem, Throwable cause) {
        this(file, field, problem);
        initCause(cause);
    }

    /** The file (or display name of an in-memory image) that is wrong. */
    public String file() {
        return file;
    }

    /** The header field, metadata key or tensor that is wrong. */
    public String field() {
        return field;
    }
}
