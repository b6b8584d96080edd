package dev.offramp.core;

import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.BackendProvider;
import dev.offramp.core.backend.BackendUnavailableException;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.model.ModelFormat;
import dev.offramp.core.model.ModelSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Entry point for library users: opens a GGUF file or an HF safetensors folder with whichever
 * {@link ModelFormat} accepts it and binds it to a {@link BackendProvider}'s backend, both found
 * through {@link ServiceLoader} (so runtime-core knows no file format and no kernel). Put
 * {@code model-loader} and {@code kernels-cpu} on the class path.
 *
 * <pre>{@code
 * try (Generator g = Models.load(Path.of("stories260K.gguf"))) {
 *     System.out.println(g.generate("Once upon a time", GenerateOptions.greedy(50), null).text());
 * }
 * }</pre>
 */
public final class Models {

    private static final System.Logger LOG = System.getLogger(Models.class.getName());

    private Models() {
    }

    /** Loads {@code path} with default options (its own tokenizer, the preferred backend, one thread per core). */
    public static Generator load(Path path) throws IOException {
        return load(path, LoadOptions.defaults());
    }

    public static Generator load(Path path, LoadOptions options) throws IOException {
        ModelSource source = open(path, options.tokenizer());
        Backend backend = null;
        try {
            backend = backend(options.backend(), options.threads());
            return Generator.of(source, backend, true);
        } catch (RuntimeException | Error e) {
            if (backend != null) {
                backend.close();
            }
            source.close();
            throw e;
        }
    }

    /** Opens {@code path} with the first {@link ModelFormat} that accepts it. */
    public static ModelSource open(Path path, Path tokenizerOverride) throws IOException {
        if (!Files.exists(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "model file or folder not found");
        }
        if (tokenizerOverride != null && !Files.exists(tokenizerOverride)) {
            throw new java.nio.file.NoSuchFileException(tokenizerOverride.toString(), null, "tokenizer file not found");
        }
        List<String> known = new ArrayList<>();
        for (ModelFormat f : ServiceLoader.load(ModelFormat.class, Models.class.getClassLoader())) {
            known.add(f.name());
            if (f.accepts(path)) {
                LOG.log(System.Logger.Level.DEBUG, "opening {0} as {1}", path, f.name());
                return f.open(path, tokenizerOverride);
            }
        }
        throw new IllegalArgumentException(known.isEmpty()
                ? "cannot open " + path + ": no model format readers on the class path (add the model-loader module)"
                : "cannot open " + path + ": not a model any reader understands (tried " + String.join(", ", known) + ")");
    }

    /**
     * Starts the backend named {@code name}, or (null) the most preferred one that runs here.
     *
     * @throws BackendUnavailableException when none can start, with every reason
     */
    public static Backend backend(String name, int threads) {
        List<BackendProvider> providers = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Models.class.getClassLoader()).forEach(providers::add);
        providers.sort(Comparator.comparingInt(BackendProvider::priority));
        if (providers.isEmpty()) {
            throw new BackendUnavailableException("no backends on the class path (add the kernels-cpu module)");
        }
        StringBuilder why = new StringBuilder();
        for (BackendProvider p : providers) {
            if (name != null && !p.name().equalsIgnoreCase(name)) {
                continue;
            }
            try {
                return p.create(threads);
            } catch (BackendUnavailableException e) {
                LOG.log(System.Logger.Level.INFO, "backend {0} unavailable: {1}", p.name(), e.getMessage());
                why.append("; ").append(p.name()).append(": ").append(e.getMessage());
            }
        }
        if (name != null && why.isEmpty()) {
            throw new BackendUnavailableException("no backend named '" + name + "' (available: "
                    + providers.stream().map(BackendProvider::name).toList() + ")");
        }
        throw new BackendUnavailableException("no backend could start" + why);
    }

}
