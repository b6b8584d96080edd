package dev.offramp.core.generate;

/** Why a generation ended. */
public enum StopReason {
    /** The model produced an end-of-generation token (EOS, EOT, ...). */
    END_OF_GENERATION,
    /** The token limit was reached. */
    MAX_TOKENS,
    /** The text contained a stop string. */
    STOP_STRING,
    /** The caller cancelled. */
    CANCELLED
}
