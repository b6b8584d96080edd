package dev.offramp.kernels.cpu;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether {@code jdk.incubator.vector} is in the boot layer. It is only there when the JVM was
 * started with {@code --add-modules jdk.incubator.vector}; a jar manifest cannot add it. Without it,
 * touching any class that mentions a Vector API type fails with {@code NoClassDefFoundError}, so
 * this check must run before any such class is loaded.
 */
final class VectorAvailability {
    private static final System.Logger LOG = System.getLogger("dev.offramp.kernels.cpu");
    // Once per JVM: a library embedding several backends (or a test suite) should see the warning
    // once, not once per backend; this flag is the only process-wide state of the module.
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private VectorAvailability() {
    }

    static boolean moduleLoaded() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** Logs the fallback warning the first time it is needed. */
    static void warnScalarFallback() {
        if (WARNED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING,
                    "jdk.incubator.vector is not available: Offramp's CPU kernels fall back to plain scalar code, "
                            + "which is several times slower. Start the JVM with --add-modules jdk.incubator.vector "
                            + "(the `offramp` launcher does this).");
        }
    }
}
