package dev.offramp.core.backend;

/** A backend cannot run here (no GPU, no driver, missing native library); the message says why. */
public class BackendUnavailableException extends RuntimeException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
