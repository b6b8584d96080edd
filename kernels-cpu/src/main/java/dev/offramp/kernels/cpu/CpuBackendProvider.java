package dev.offramp.kernels.cpu;

import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.BackendProvider;

/** Registers {@link CpuBackend} under the name {@code cpu}, the default (priority 0). */
public final class CpuBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Backend create(int threads) {
        return new CpuBackend(threads);
    }
}
