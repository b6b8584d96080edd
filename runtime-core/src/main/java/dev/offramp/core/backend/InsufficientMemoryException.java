package dev.offramp.core.backend;

/**
 * A KV cache or batch buffers would not fit the memory the backend has left; thrown before anything
 * is allocated, so the process keeps running with what it had.
 *
 * <pre>{@code
 * try {
 *     session = generator.newSession(SessionOptions.defaults().withContextLength(1 << 20));
 * } catch (InsufficientMemoryException e) {
 *     long fits = e.availableBytes();   // retry with a shorter context
 * }
 * }</pre>
 */
public class InsufficientMemoryException extends IllegalStateException {
    private final long neededBytes;
    private final long availableBytes;

    public InsufficientMemoryException(String what, long neededBytes, long availableBytes) {
        super(what + " needs " + neededBytes + " bytes (" + mib(neededBytes) + ") but only " + availableBytes
                + " bytes (" + mib(availableBytes) + ") are available: ask for a shorter context or smaller batch,"
                + " an F16 KV cache, or more memory (-Xmx)");
        this.neededBytes = neededBytes;
        this.availableBytes = availableBytes;
    }

    public long neededBytes() {
        return neededBytes;
    }

    public long availableBytes() {
        return availableBytes;
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
