package dev.offramp.core.backend;

/**
 * Found through {@link java.util.ServiceLoader}: each backend module registers one in
 * {@code META-INF/services/dev.offramp.core.backend.BackendProvider}.
 */
public interface BackendProvider {
    /** {@code cpu}, {@code cuda}, ... */
    String name();

    /** Lower is preferred when the caller does not name a backend. CPU is the default. */
    int priority();

    /**
     * Starts a backend with {@code threads} workers (0 = one per core).
     *
     * @throws BackendUnavailableException when it cannot run on this machine
     */
    Backend create(int threads);
}
