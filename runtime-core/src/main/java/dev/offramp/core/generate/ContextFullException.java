package dev.offramp.core.generate;

/** The session's context (KV cache) is full and its policy is {@link ContextOverflow#ERROR}. */
public class ContextFullException extends IllegalStateException {
    public ContextFullException(String message) {
        super(message);
    }
}
