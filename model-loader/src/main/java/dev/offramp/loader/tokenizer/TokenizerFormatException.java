package dev.offramp.loader.tokenizer;

/** A tokenizer description that cannot be used; the message names the file and the field. */
public final class TokenizerFormatException extends IllegalArgumentException {
    private final String source;
    private final String field;
    private final String problem;

    public TokenizerFormatException(String source, String field, String problem) {
        super(source + ": " + field + ": " + problem);
        this.source = source;
        this.field = field;
        this.problem = problem;
    }

    public TokenizerFormatException(String source, String field, String problem, Throwable cause) {
        super(source + ": " + field + ": " + problem, cause);
        this.source = source;
        this.field = field;
        this.problem = problem;
    }

    public String source() {
        return source;
    }

    public String field() {
        return field;
    }

    /** What is wrong, without the source and field. */
    public String problem() {
        return problem;
    }
}
