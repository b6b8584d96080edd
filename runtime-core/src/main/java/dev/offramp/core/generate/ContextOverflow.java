package dev.offramp.core.generate;

/** What a session does when the next token would not fit its KV cache. */
public enum ContextOverflow {
    /** Throw {@link ContextFullException}. */
    ERROR,
    /**
     * Keep the first token if it is BOS plus the most recent half of the context, and re-evaluate
     * them at positions starting from 0: the model then sees exactly the truncated window, at the
     * cost of one prefill.
     */
    SLIDE
}
