package dev.offramp.core.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates {@code ../shared} (fixtures nobody here wrote) relative to the repository root. In CI
 * ({@code CI=true}) a missing folder fails the test; elsewhere the test is skipped.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /** The shared folder: {@code -Dofframp.shared}, else the first {@code ../shared} above the working directory. */
    public static Path shared() {
        String prop = System.getProperty("offramp.shared");
        if (prop != null && Files.isDirectory(Path.of(prop, "models"))) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("models"))) {
                return candidate.normalize();
            }
        }
        String msg = "../shared/models not found (set -Dofframp.shared=PATH)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(msg + "; CI=true, so this is a failure, not a skip");
        }
        Assumptions.abort(msg);
        throw new AssertionError(msg);
    }

    /** A file under {@code ../shared/models}; it must exist. */
    public static Path model(String relative) {
        Path p = shared().resolve("models").resolve(relative);
        if (!Files.exists(p)) {
            throw new AssertionError("fixture missing: " + p);
        }
        return p;
    }
}
