package dev.offramp.bench;

import dev.offramp.core.tensor.DType;
import dev.offramp.loader.synth.SynthOptions;
import dev.offramp.loader.synth.SynthShape;
import dev.offramp.loader.synth.SynthVocab;
import dev.offramp.loader.synth.SyntheticModel;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Synthetic real-shape GGUFs kept in a cache folder between runs: a 1 GB model takes a minute to
 * write on two cores, and the bytes depend only on shape, type and seed (the generator is
 * deterministic), so the file name is that key.
 *
 * <pre>{@code
 * Path f = SynthCache.model(Path.of("/home/me/.cache/offramp/synth"), "tinyllama-1.1b", DType.Q4_0, 0, null);
 * }</pre>
 */
public final class SynthCache {

    private static final System.Logger LOG = System.getLogger(SynthCache.class.getName());
    /** Bumped when the generator's output for the same options changes. */
    private static final String GENERATION = "g1";

    private SynthCache() {
    }

    /** The cached file for these options, written first when it is missing. */
    public static Path model(Path cacheDir, String shapeName, DType type, long seed, Path vocab) throws IOException {
        SynthShape shape = SynthShape.named(shapeName).orElseThrow(() -> new IllegalArgumentException(
                "unknown shape '" + shapeName + "' (known: " + String.join(", ", SynthShape.named().keySet()) + ")"));
        Path file = cacheDir.resolve(String.format(Locale.ROOT, "%s-%s-s%d-%s.gguf", shape.name(),
                type.name().toLowerCase(Locale.ROOT), seed, GENERATION));
        if (Files.isRegularFile(file)) {
            return file;
        }
        Files.createDirectories(cacheDir);
        SynthOptions o = SynthOptions.of(shape, type).withSeed(seed)
                .withVocabFile(vocab != null ? vocab : findVocab(shape.vocab()));
        LOG.log(System.Logger.Level.INFO, "synthesizing {0} {1} into {2}", shape.name(), type, file);
        SyntheticModel.write(o, file); // temp file then move: a killed run leaves no half file under the key
        return file;
    }

    /**
     * The shape's usual vocabulary GGUF, looked up in a {@code shared/models} folder beside the working
     * directory, the jar, or one of their parents ({@code -Dofframp.shared=DIR} overrides).
     */
    static Path findVocab(SynthVocab v) {
        if (v == SynthVocab.NONE) {
            return null;
        }
        List<Path> roots = new ArrayList<>();
        String prop = System.getProperty("offramp.shared");
        if (prop != null) {
            roots.add(Path.of(prop));
        } else {
            for (Path start : new Path[]{Path.of("").toAbsolutePath(), codeLocation()}) {
                for (Path dir = start; dir != null; dir = dir.getParent()) {
                    roots.add(dir.resolveSibling("shared"));
                    roots.add(dir.resolve("shared"));
                }
            }
        }
        for (Path shared : roots) {
            for (String sub : new String[]{"llama.cpp-vocab", "random"}) {
                Path p = shared.resolve("models").resolve(sub).resolve(v.usualFile());
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException("the synthetic shape borrows the " + v + " tokenizer and "
                + v.usualFile() + " was not found under a shared/models folder: give --vocab FILE or --model FILE");
    }

    private static Path codeLocation() {
        try {
            return Path.of(SynthCache.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }
}
